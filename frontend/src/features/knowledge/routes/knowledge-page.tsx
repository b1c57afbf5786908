// The knowledge base tab: add documents and pages, see each one's status, and try what the
// agent would find for a customer's question.
import { Card, Grid, Heading, Stack } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/page-header';
import { DocumentList } from '@/features/knowledge/components/document-list';
import { KnowledgeSearch } from '@/features/knowledge/components/knowledge-search';
import { KnowledgeUpload } from '@/features/knowledge/components/knowledge-upload';

export function KnowledgePage() {
  const { t } = useTranslation('knowledge');
  return (
    <Stack gap="6">
      <PageHeader title={t('title')} description={t('description')} />
      <Grid templateColumns={{ base: '1fr', lg: '3fr 2fr' }} gap="6" alignItems="start">
        <Stack gap="6">
          <Card.Root variant="outline">
            <Card.Header>
              <Card.Title as="h2">{t('addTitle')}</Card.Title>
            </Card.Header>
            <Card.Body>
              <KnowledgeUpload />
            </Card.Body>
          </Card.Root>
          <Stack gap="3">
            <Heading as="h2" size="md">{t('documents')}</Heading>
            <DocumentList />
          </Stack>
        </Stack>
        <Card.Root variant="outline">
          <Card.Header>
            <Card.Title as="h2">{t('search.title')}</Card.Title>
            <Card.Description>{t('search.description')}</Card.Description>
          </Card.Header>
          <Card.Body>
            <KnowledgeSearch />
          </Card.Body>
        </Card.Root>
      </Grid>
    </Stack>
  );
}

export { KnowledgePage as Component };
