// Settings: Instagram resync, the delivery hook (+ its log), the shop's own model, export and
// deletion of the shop.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import { forgetSession, meQueryKey } from '@/lib/auth';
import type { components } from '@/lib/api/schema';

export type ModelSettingsChange = components['schemas']['ModelSettingsChange'];
export type HookInput = components['schemas']['HookInput'];

export function useResync() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      const { data } = await client.POST('/api/v1/instagram/resync');
      return data!;
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: meQueryKey }),
  });
}

export const useDeliveryHook = () => $api.useQuery('get', '/api/v1/delivery-hook');
export const useDeliveryLog = () => $api.useQuery('get', '/api/v1/delivery-hook/log', {}, { refetchInterval: 30_000 });

export function useSaveDeliveryHook() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async (body: HookInput) => {
      const { data } = await client.PUT('/api/v1/delivery-hook', { body });
      return data!;
    },
    onSuccess: (answer) => queryClient.setQueryData(['get', '/api/v1/delivery-hook', {}], answer),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['get', '/api/v1/delivery-hook'] }),
  });
}

export const useModelSettings = () => $api.useQuery('get', '/api/v1/settings/model');

export function useSaveModelSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async (body: ModelSettingsChange) => {
      const { data } = await client.PUT('/api/v1/settings/model', { body });
      return data!;
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['get', '/api/v1/settings/model'] }),
  });
}

export function useTestModel() {
  return useMutation({
    meta: { quiet: true },
    mutationFn: async (body: ModelSettingsChange) => {
      const { data } = await client.POST('/api/v1/settings/model/test', { body });
      return data!;
    },
  });
}

/** The export as a file download, named as the server names it. */
export function useExportShop() {
  return useMutation({
    mutationFn: async () => {
      const { data, response } = await client.GET('/api/v1/shop/export', { parseAs: 'blob' });
      const disposition = response.headers.get('Content-Disposition') ?? '';
      const name = /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? 'shop-export.zip';
      const url = URL.createObjectURL(data!);
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return name;
    },
  });
}

export function useDeleteShop() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async (confirm: string) => {
      await client.DELETE('/api/v1/shop', { body: { confirm } });
    },
    onSuccess: () => forgetSession(queryClient),
  });
}
