import { Box, Heading, Stack, Text } from '@chakra-ui/react';
import type { ReactNode } from 'react';

/** One card of the settings page, with its own heading (keyboard users jump by headings). */
export function SettingsSection({
  id,
  title,
  description,
  children,
  tone,
}: {
  id: string;
  title: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  tone?: 'danger';
}) {
  return (
    <Box
      as="section"
      aria-labelledby={`${id}-title`}
      id={id}
      bg="bg"
      borderWidth="1px"
      borderColor={tone === 'danger' ? 'red.muted' : undefined}
      rounded="lg"
      p={{ base: '4', md: '6' }}
    >
      <Stack gap="1" mb="4">
        <Heading as="h2" size="md" id={`${id}-title`} color={tone === 'danger' ? 'red.fg' : undefined}>
          {title}
        </Heading>
        {description && (
          <Text color="fg.muted" textStyle="sm">
            {description}
          </Text>
        )}
      </Stack>
      {children}
    </Box>
  );
}
