// The profile's YAML in CodeMirror 6 (loaded with the profile tab only). The line the API or
// the parser names is marked, and its message is tied to the editor for screen readers.
import { Box, Text } from '@chakra-ui/react';
import { yaml } from '@codemirror/lang-yaml';
import CodeMirror, { Decoration, EditorView } from '@uiw/react-codemirror';
import { useId, useMemo } from 'react';

export function YamlEditor({
  value,
  onChange,
  label,
  problem,
}: {
  value: string;
  onChange: (value: string) => void;
  label: string;
  problem: { line: number; message: string } | null;
}) {
  const errorId = useId();
  const extensions = useMemo(() => {
    const base = [
      yaml(),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({
        'aria-label': label,
        ...(problem ? { 'aria-invalid': 'true', 'aria-describedby': errorId } : {}),
      }),
    ];
    if (!problem) return base;
    const mark = Decoration.line({ attributes: { class: 'cm-problem-line', title: problem.message } });
    return [
      ...base,
      EditorView.decorations.of((view) => {
        const line = Math.min(Math.max(problem.line, 1), view.state.doc.lines);
        return Decoration.set([mark.range(view.state.doc.line(line).from)]);
      }),
      EditorView.theme({ '.cm-problem-line': { backgroundColor: 'rgba(229, 62, 62, 0.18)' } }),
    ];
  }, [problem, label, errorId]);

  return (
    <Box>
      <Box borderWidth="1px" rounded="md" overflow="hidden" dir="ltr" borderColor={problem ? 'border.error' : undefined}>
        <CodeMirror value={value} onChange={onChange} extensions={extensions} minHeight="420px" basicSetup={{ foldGutter: false }} />
      </Box>
      {problem && (
        <Text id={errorId} color="fg.error" mt="2" role="alert" data-testid="yaml-problem">
          {problem.message}
        </Text>
      )}
    </Box>
  );
}
