import { Box, Code, Stack, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';

/** The commands to run by hand when this server cannot sign (no LICENCE_SIGNING_KEY). */
export function CliCommands({ commands }: { commands: string[] }) {
  const { t } = useTranslation('admin');
  if (commands.length === 0) return null;
  return (
    <Stack gap="2" data-testid="licence-cli">
      <Text textStyle="sm">{t('licences.cliIntro')}</Text>
      <Box as="pre" dir="ltr" textAlign="left" bg="bg.muted" p="3" rounded="md" overflowX="auto" textStyle="xs">
        {commands.map((command) => (
          <Code key={command} display="block" bg="transparent" whiteSpace="pre" p="0">
            {command}
          </Code>
        ))}
      </Box>
    </Stack>
  );
}
