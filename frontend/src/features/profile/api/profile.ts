// The business profile: read it (a new shop gets a template), save it as JSON (the form) or
// as YAML (the editor). A refusal names the field or the line.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import type { Profile } from '@/features/profile/lib/profile-yaml';

export const useProfile = () => $api.useQuery('get', '/api/v1/profile');

export function useSaveProfile() {
  const qc = useQueryClient();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async (input: { profile: Profile } | { yaml: string }) => {
      const { data } =
        'yaml' in input
          ? await client.PUT('/api/v1/profile', {
              body: input.yaml as unknown as Profile,
              bodySerializer: (body: unknown) => body as string,
              headers: { 'Content-Type': 'application/yaml' },
            })
          : await client.PUT('/api/v1/profile', { body: input.profile });
      return data!;
    },
    onSuccess: (answer) => {
      qc.setQueryData(['get', '/api/v1/profile'], answer);
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/profile'] });
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/onboarding'] });
    },
  });
}
