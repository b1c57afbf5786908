import { EmptyState as ChakraEmptyState, VStack } from '@chakra-ui/react';
import type { ReactNode } from 'react';

/** A designed "nothing here yet": what the list will hold and how to get the first one. */
export function EmptyState({
  icon,
  title,
  description,
  action,
  headingLevel = 'h2',
}: {
  icon?: ReactNode;
  title: ReactNode;
  description?: ReactNode;
  action?: ReactNode;
  /** The title's heading level in the page outline. */
  headingLevel?: 'h2' | 'h3' | 'p';
}) {
  return (
    <ChakraEmptyState.Root size="md">
      <ChakraEmptyState.Content>
        {icon && <ChakraEmptyState.Indicator aria-hidden>{icon}</ChakraEmptyState.Indicator>}
        <VStack textAlign="center">
          <ChakraEmptyState.Title as={headingLevel}>{title}</ChakraEmptyState.Title>
          {description && <ChakraEmptyState.Description>{description}</ChakraEmptyState.Description>}
        </VStack>
        {action}
      </ChakraEmptyState.Content>
    </ChakraEmptyState.Root>
  );
}
