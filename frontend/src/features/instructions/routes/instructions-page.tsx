// The AI instructions tab: free-text instructions and business rules on one side, a test chat
// on the other to try them at once.
import { Grid, Stack } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/page-header';
import { InstructionsCard } from '@/features/instructions/components/instructions-card';
import { RulesCard } from '@/features/instructions/components/rules-card';
import { TestChat } from '@/features/instructions/components/test-chat';

export function InstructionsPage() {
  const { t } = useTranslation('instructions');
  return (
    <Stack gap="6">
      <PageHeader title={t('title')} description={t('description')} />
      <Grid templateColumns={{ base: '1fr', lg: '3fr 2fr' }} gap="6" alignItems="start">
        <Stack gap="6" minW="0">
          <InstructionsCard />
          <RulesCard />
        </Stack>
        <TestChat />
      </Grid>
    </Stack>
  );
}

export { InstructionsPage as Component };
