// The knowledge base's requests: documents (refreshed while any is still being read), upload,
// add a URL, retry, delete, and the search the agent would run.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type KnowledgeDocument = components['schemas']['KnowledgeDocument'];

const DOCUMENTS_KEY = ['get', '/api/v1/knowledge/documents'] as const;
const REFRESH_MS = 2000;

const stillReading = (documents: KnowledgeDocument[] | undefined) =>
  documents?.some((d) => d.status === 'queued' || d.status === 'processing') ?? false;

export function useDocuments() {
  return $api.useQuery('get', '/api/v1/knowledge/documents', undefined, {
    refetchInterval: (query) => (stillReading(query.state.data?.documents) ? REFRESH_MS : false),
  });
}

function useInvalidateDocuments() {
  const qc = useQueryClient();
  return () => {
    void qc.invalidateQueries({ queryKey: DOCUMENTS_KEY });
    void qc.invalidateQueries({ queryKey: ['get', '/api/v1/onboarding'] });
  };
}

export function useUploadDocument() {
  const invalidate = useInvalidateDocuments();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async (file: File) => {
      const form = new FormData();
      form.append('file', file, file.name);
      const { data } = await client.POST('/api/v1/knowledge/documents', {
        body: form as unknown as string,
        bodySerializer: (body: unknown) => body as BodyInit,
      });
      return data!;
    },
    onSuccess: invalidate,
  });
}

export function useAddUrl() {
  const invalidate = useInvalidateDocuments();
  return $api.useMutation('post', '/api/v1/knowledge/documents/url', { meta: { quiet: true }, onSuccess: invalidate });
}

export function useRetryDocument() {
  const invalidate = useInvalidateDocuments();
  return $api.useMutation('post', '/api/v1/knowledge/documents/{id}/retry', { onSuccess: invalidate });
}

export function useDeleteDocument() {
  const invalidate = useInvalidateDocuments();
  return $api.useMutation('delete', '/api/v1/knowledge/documents/{id}', { meta: { quiet: true }, onSuccess: invalidate });
}

export const useKnowledgeSearch = (q: string) =>
  $api.useQuery('get', '/api/v1/knowledge/search', { params: { query: { q, limit: 8 } } }, { enabled: q.length > 0 });
