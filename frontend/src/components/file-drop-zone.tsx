import { Box, Stack, Text } from '@chakra-ui/react';
import { useDropzone, type Accept, type FileRejection } from 'react-dropzone';
import { LuUpload } from 'react-icons/lu';
import type { ReactNode } from 'react';

/**
 * A drop zone that is also a button (Enter/Space opens the file picker), named by its visible
 * `label` and hint; the hidden file input carries `label` as its name.
 */
export function FileDropZone({
  label,
  hint,
  accept,
  multiple = false,
  maxSize,
  disabled = false,
  onFiles,
  onRejected,
  testId,
}: {
  label: string;
  hint?: ReactNode;
  accept?: Accept;
  multiple?: boolean;
  maxSize?: number;
  disabled?: boolean;
  onFiles: (files: File[]) => void;
  onRejected?: (rejections: FileRejection[]) => void;
  testId?: string;
}) {
  const { getRootProps, getInputProps, isDragActive } = useDropzone({
    accept,
    multiple,
    maxSize,
    disabled,
    onDropAccepted: onFiles,
    onDropRejected: onRejected,
  });
  // The input sits beside the button (not inside it), so the button holds no other control;
  // the button's name is its visible text.
  return (
    <>
    <input {...getInputProps({ 'aria-label': label })} />
    <Box
      {...getRootProps({ role: 'button' })}
      data-testid={testId}
      borderWidth="2px"
      borderStyle="dashed"
      borderColor={isDragActive ? 'blue.solid' : 'border.emphasized'}
      bg={isDragActive ? 'blue.subtle' : 'bg.subtle'}
      rounded="l3"
      p={{ base: '5', md: '8' }}
      cursor={disabled ? 'not-allowed' : 'pointer'}
      opacity={disabled ? 0.6 : 1}
      textAlign="center"
      _focusVisible={{ outline: '2px solid', outlineColor: 'blue.focusRing', outlineOffset: '2px' }}
    >
      <Stack align="center" gap="2">
        <LuUpload aria-hidden size="28" />
        <Text fontWeight="medium">{label}</Text>
        {hint && (
          <Text textStyle="sm" color="fg.muted">
            {hint}
          </Text>
        )}
      </Stack>
    </Box>
    </>
  );
}
