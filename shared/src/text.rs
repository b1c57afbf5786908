//! Checks every text input passes: PostgreSQL text cannot hold NUL, so a NUL anywhere in a
//! body is refused before it reaches the database (naming the field); and characters a
//! person cannot see, or that turn the reading direction, are named when a value (a SKU)
//! must not contain them.

/// The path of the first string (or object key) in `value` holding a NUL character:
/// `name`, `attributes.colour`, `changes[2].name`; `""` for a bare top-level string.
pub fn path_of_nul(value: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut String) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            serde_json::Value::Object(map) => map.iter().any(|(k, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.replace('\0', "\\u0000"));
                let found = k.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then_some(path)
}

/// How deeply arrays and objects nest in `value` (a scalar is 0).
pub fn depth(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The message for a NUL character.
pub const NUL_MESSAGE: &str =
    "contains a NUL character (\\u0000), which cannot be stored; remove it";

/// The first character of `s` that is a control character, an invisible format character
/// (zero-width space, joiners, the byte-order mark) or a direction-changing mark
/// (U+200E, U+202E, U+2066…), described for a person: `"U+202E (right-to-left override)"`.
pub fn first_control_character(s: &str) -> Option<String> {
    s.chars()
        .find_map(|c| describe_control(c).map(|what| format!("U+{:04X} ({what})", c as u32)))
}

fn describe_control(c: char) -> Option<&'static str> {
    Some(match c {
        '\0' => "NUL",
        '\t' => "tab",
        '\n' | '\r' => "line break",
        c if c.is_control() => "control character",
        '\u{00AD}' => "soft hyphen",
        '\u{061C}' => "Arabic letter mark, direction-changing",
        '\u{200B}' => "zero-width space",
        '\u{200C}' => "zero-width non-joiner",
        '\u{200D}' => "zero-width joiner",
        '\u{200E}' => "left-to-right mark, direction-changing",
        '\u{200F}' => "right-to-left mark, direction-changing",
        '\u{202A}'..='\u{202E}' => "direction-changing embedding or override",
        '\u{2060}'..='\u{2064}' => "invisible format character",
        '\u{2066}'..='\u{2069}' => "direction-changing isolate",
        '\u{206A}'..='\u{206F}' => "invisible format character",
        '\u{FEFF}' => "zero-width no-break space (byte-order mark)",
        '\u{FFF9}'..='\u{FFFB}' => "interlinear annotation character",
        '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{180E}' => {
            "invisible format character"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_found_with_its_path() {
        assert_eq!(
            path_of_nul(&json!({"name": "a\u{0}b"})).as_deref(),
            Some("name")
        );
        assert_eq!(
            path_of_nul(&json!({"changes": [{"name": "ok"}, {"attributes": {"c": "x\u{0}"}}]}))
                .as_deref(),
            Some("changes[1].attributes.c")
        );
        assert_eq!(path_of_nul(&json!({"name": "fine", "n": [1, 2]})), None);
    }

    #[test]
    fn depth_counts_nesting() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({"a": [[1]]})), 3);
    }

    #[test]
    fn invisible_and_direction_characters_are_named() {
        assert_eq!(
            first_control_character("AB\u{202E}C").as_deref(),
            Some("U+202E (direction-changing embedding or override)")
        );
        assert!(first_control_character("A\u{200B}")
            .unwrap()
            .contains("zero-width space"));
        assert!(first_control_character("\u{200E}A")
            .unwrap()
            .contains("left-to-right mark"));
        assert_eq!(first_control_character("قميص-1"), None);
    }
}
