// Local sign-in (offered only by a local server) and where a merchant lands afterwards.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { client, setCsrfToken } from '@/lib/api-client';
import { paths, safeReturnPath } from '@/config/paths';

export function useLocalSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true }, // the form shows the message at the field
    mutationFn: async (handle: string) => {
      const { data } = await client.POST('/api/v1/auth/local', { body: { handle } });
      return data!;
    },
    onSuccess: async (answer) => {
      setCsrfToken(answer.csrf_token);
      queryClient.clear();
    },
  });
}

/** A shop that has not finished setting up goes to the wizard; others where they were going. */
export async function landingPath(next: string | null): Promise<string> {
  try {
    const { data } = await client.GET('/api/v1/onboarding');
    if (data && !data.completed_at) return paths.onboarding.getHref();
  } catch {
    // the overview says what is wrong if the API is down
  }
  return safeReturnPath(next) ?? paths.overview.getHref();
}
