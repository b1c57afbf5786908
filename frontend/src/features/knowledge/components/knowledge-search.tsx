// "What would the agent find": the same search the agent runs, over products and passages.
import { Badge, Box, Button, Field, Flex, Input, Stack, Text } from '@chakra-ui/react';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '@/components/error-alert';
import { useKnowledgeSearch } from '@/features/knowledge/api/knowledge';

export function KnowledgeSearch() {
  const { t } = useTranslation('knowledge');
  const [input, setInput] = useState('');
  const [q, setQ] = useState('');
  const search = useKnowledgeSearch(q);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQ(input.trim());
  };
  return (
    <Stack gap="4">
      <form onSubmit={submit} role="search">
        <Flex gap="3" align="flex-end" direction={{ base: 'column', sm: 'row' }}>
          <Field.Root flex="1">
            <Field.Label>{t('search.label')}</Field.Label>
            <Input value={input} onChange={(e) => setInput(e.target.value)} placeholder={t('search.placeholder')} />
          </Field.Root>
          <Button type="submit" loading={search.isFetching} disabled={!input.trim()}>
            {t('search.submit')}
          </Button>
        </Flex>
      </form>
      {search.isError && <ErrorAlert error={search.error} />}
      {search.data && (
        <Stack gap="2" aria-live="polite" aria-label={t('search.results')}>
          {search.data.hits.length === 0 ? (
            <Text color="fg.muted">{t('search.none')}</Text>
          ) : (
            search.data.hits.map((hit) => (
              <Box key={`${hit.kind}-${hit.id}`} borderWidth="1px" rounded="md" p="3">
                <Flex gap="2" align="center" mb="1">
                  <Badge colorPalette={hit.kind === 'product' ? 'purple' : 'blue'}>{t(`search.${hit.kind}`)}</Badge>
                  <Text fontWeight="medium">{hit.title}</Text>
                </Flex>
                <Text textStyle="sm" color="fg.muted" whiteSpace="pre-wrap" dir="auto">
                  {hit.snippet}
                </Text>
              </Box>
            ))
          )}
        </Stack>
      )}
    </Stack>
  );
}
