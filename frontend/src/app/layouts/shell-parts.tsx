// The pieces the merchant dashboard and the admin console share: the skip link to the page's
// main content and the sticky side navigation (hidden on phones, where a drawer takes over).
import { Box, Link } from '@chakra-ui/react';
import type { ReactNode } from 'react';

const SIDEBAR_WIDTH = '15rem';

export function SkipLink({ children }: { children: ReactNode }) {
  return (
    <Link
      href="#main"
      position="absolute"
      insetStart="2"
      top="-20"
      _focus={{ top: '2', zIndex: 'skipLink', bg: 'bg', p: '2', rounded: 'md' }}
    >
      {children}
    </Link>
  );
}

export function Sidebar({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Box
      as="nav"
      aria-label={label}
      display={{ base: 'none', md: 'flex' }}
      flexDirection="column"
      w={SIDEBAR_WIDTH}
      flexShrink={0}
      bg="bg"
      borderEndWidth="1px"
      position="sticky"
      top="0"
      h="100dvh"
      p="3"
      gap="3"
      overflowY="auto"
    >
      {children}
    </Box>
  );
}
