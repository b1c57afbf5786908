// What the merchant does to a conversation. Each change refreshes the list and the thread.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { client } from '@/lib/api-client';
import { conversationsKey } from '@/features/inbox/api/get-conversations';
import { threadKey } from '@/features/inbox/api/get-thread';

type Action = 'takeover' | 'handback' | 'close' | 'reopen';

function useRefresh(id: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: conversationsKey }),
      queryClient.invalidateQueries({ queryKey: threadKey(id) }),
    ]);
}

export function useConversationAction(id: string) {
  const refresh = useRefresh(id);
  return useMutation({
    mutationFn: async (action: Action) => {
      const path = {
        takeover: '/api/v1/conversations/{id}/takeover',
        handback: '/api/v1/conversations/{id}/handback',
        close: '/api/v1/conversations/{id}/close',
        reopen: '/api/v1/conversations/{id}/reopen',
      } as const;
      const { data } = await client.POST(path[action], { params: { path: { id } } });
      return data!;
    },
    onSettled: refresh,
  });
}

/** A human reply (sent to the customer) or an internal note (never sent). */
export function useSendToThread(id: string, kind: 'reply' | 'note') {
  const refresh = useRefresh(id);
  return useMutation({
    meta: { quiet: true }, // the reply box shows the server's message where the merchant types
    mutationFn: async (text: string) => {
      const path = kind === 'reply' ? '/api/v1/conversations/{id}/reply' : '/api/v1/conversations/{id}/notes';
      const { data } = await client.POST(path, { params: { path: { id } }, body: { text } });
      return data!;
    },
    onSettled: refresh,
  });
}

export function useMarkRead(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async () => {
      await client.POST('/api/v1/conversations/{id}/read', { params: { path: { id } } });
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: conversationsKey }),
  });
}
