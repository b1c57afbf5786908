//! OpenAPI schemas of the value types whose JSON form is a plain string (money, SKUs, ids,
//! handles): the derive cannot see through their custom serde, so they say it here.

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;

/// A string schema with a description, an example and optionally a pattern or format.
pub fn string(
    description: &str,
    example: &str,
    pattern: Option<&str>,
    format: Option<SchemaFormat>,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .examples([example])
        .pattern(pattern)
        .format(format)
        .into()
}

/// `impl PartialSchema + ToSchema` for a type that travels as a string.
#[macro_export]
macro_rules! string_schema {
    ($ty:ty, $description:expr, $example:expr $(, pattern = $pattern:expr)? $(, format = $format:expr)?) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::api_schema::string(
                    $description,
                    $example,
                    None$(.or(Some($pattern)))?,
                    None$(.or(Some($format)))?,
                )
            }
        }
        impl utoipa::ToSchema for $ty {}
    };
}
