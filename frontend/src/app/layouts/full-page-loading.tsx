import { Center, Spinner } from '@chakra-ui/react';

/** Shown while the first strings or the session load; no text, since strings may not be here yet. */
export function FullPageLoading() {
  return (
    <Center minH="100dvh" role="status" aria-busy="true" aria-label="Loading">
      <Spinner size="lg" color="blue.solid" />
    </Center>
  );
}
