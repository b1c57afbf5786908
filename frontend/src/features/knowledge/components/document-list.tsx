// The knowledge base's documents with where each stands; the list refreshes by itself until
// every document is indexed or failed. Failed ones show why and can be retried.
import { Badge, Box, Button, Flex, HStack, Stack, Text } from '@chakra-ui/react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuBookOpen, LuRotateCw, LuTrash2 } from 'react-icons/lu';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { DateTime } from '@/components/date-time';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { errorMessage } from '@/lib/api-client';
import { formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import {
  useDeleteDocument,
  useDocuments,
  useRetryDocument,
  type KnowledgeDocument,
} from '@/features/knowledge/api/knowledge';

const PALETTE = { queued: 'gray', processing: 'blue', indexed: 'green', failed: 'red' } as const;

function size(bytes: number | null | undefined, language: 'en' | 'ar') {
  if (!bytes) return null;
  if (bytes < 1024 * 1024) return `${formatNumber(Math.max(1, Math.round(bytes / 1024)), language)} KB`;
  return `${formatNumber(Math.round((bytes / 1024 / 1024) * 10) / 10, language)} MB`;
}

export function DocumentList({ compact = false }: { compact?: boolean }) {
  const { t } = useTranslation('knowledge');
  const language = useLanguage();
  const documents = useDocuments();
  const retry = useRetryDocument();
  const remove = useDeleteDocument();
  const [toDelete, setToDelete] = useState<KnowledgeDocument | null>(null);

  if (documents.isPending) return <LoadingSkeleton rows={3} />;
  if (documents.isError) return <ErrorAlert error={documents.error} onRetry={() => void documents.refetch()} />;
  const list = documents.data.documents;
  if (list.length === 0) {
    return <EmptyState icon={<LuBookOpen />} title={t('empty.title')} description={t('empty.description')} />;
  }

  return (
    <>
      <Stack gap="3" as="ul" aria-label={t('documents')} listStyleType="none">
        {list.map((d) => (
          <Box as="li" key={d.id} borderWidth="1px" rounded="md" p="4" data-testid="knowledge-document">
            <Flex gap="3" justify="space-between" align={{ base: 'stretch', md: 'center' }} direction={{ base: 'column', md: 'row' }}>
              <Stack gap="1" minW="0">
                <HStack gap="2" wrap="wrap">
                  <Text fontWeight="medium" truncate maxW="md">{d.title}</Text>
                  <Badge colorPalette={PALETTE[d.status]} aria-label={t('statusLabel', { status: t(`status.${d.status}`) })}>
                    {t(`status.${d.status}`)}
                  </Badge>
                </HStack>
                <Text textStyle="sm" color="fg.muted" dir="auto">
                  {[
                    d.source === 'url' ? d.url : d.file_name,
                    d.kind ? t(`kind.${d.kind}`, { defaultValue: d.kind }) : null,
                    size(d.size_bytes, language),
                    d.status === 'indexed' ? t('passages', { count: d.chunk_count, n: formatNumber(d.chunk_count, language) }) : null,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </Text>
                {!compact && (
                  <Text textStyle="xs" color="fg.muted">
                    {t('added')} <DateTime value={d.created_at} relative />
                  </Text>
                )}
                {d.truncated && <Text textStyle="sm" color="fg.warning">{t('truncated')}</Text>}
                {d.status === 'failed' && d.failure_reason && (
                  <Text textStyle="sm" color="fg.error" role="alert" dir="auto">
                    {d.failure_reason}
                  </Text>
                )}
              </Stack>
              <HStack gap="2" flexShrink={0}>
                {d.status === 'failed' && (
                  <Button
                    size="sm"
                    variant="outline"
                    loading={retry.isPending && retry.variables?.params.path.id === d.id}
                    onClick={() => retry.mutate({ params: { path: { id: d.id } } })}
                    aria-label={t('retryDoc', { title: d.title })}
                  >
                    <LuRotateCw aria-hidden /> {t('retry')}
                  </Button>
                )}
                <Button
                  size="sm"
                  variant="ghost"
                  colorPalette="red"
                  onClick={() => setToDelete(d)}
                  aria-label={t('deleteDoc', { title: d.title })}
                >
                  <LuTrash2 aria-hidden /> {t('delete.button')}
                </Button>
              </HStack>
            </Flex>
          </Box>
        ))}
      </Stack>
      <ConfirmDialog
        open={toDelete !== null}
        onOpenChange={(open) => {
          if (!open) {
            setToDelete(null);
            remove.reset();
          }
        }}
        title={t('delete.title', { title: toDelete?.title ?? '' })}
        body={t('delete.body')}
        confirmLabel={t('delete.confirm')}
        pending={remove.isPending}
        error={remove.isError ? errorMessage(remove.error) : null}
        onConfirm={() =>
          toDelete && remove.mutate({ params: { path: { id: toDelete.id } } }, { onSuccess: () => setToDelete(null) })
        }
      />
    </>
  );
}
