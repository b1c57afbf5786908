// The inbox: the conversation list and the open thread side by side; at phone width one at a
// time (the thread has a back button). Filters and search live in the URL.
import { Box, Flex, Heading } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { LuInbox } from 'react-icons/lu';
import { useParams, useSearchParams } from 'react-router';
import { EmptyState } from '@/components/empty-state';
import { isInboxFilter } from '@/features/inbox/api/get-conversations';
import { ConversationList } from '@/features/inbox/components/conversation-list';
import { ThreadView } from '@/features/inbox/components/thread-view';

export function InboxPage() {
  const { t } = useTranslation('inbox');
  const { conversationId } = useParams();
  const [params] = useSearchParams();
  const rawFilter = params.get('filter');
  const filter = isInboxFilter(rawFilter) ? rawFilter : 'all';
  const search = params.get('q')?.trim() ?? '';
  const listSearch = params.toString() ? `?${params.toString()}` : '';

  return (
    <Flex
      h={{ base: 'calc(100dvh - 3.5rem - 1.5rem)', md: 'calc(100dvh - 3.5rem - 3rem)' }}
      minH="28rem"
      bg="bg"
      borderWidth="1px"
      rounded="lg"
      overflow="hidden"
    >
      <Box
        w={{ base: 'full', md: '20rem', lg: '24rem' }}
        flexShrink={0}
        borderEndWidth={{ md: '1px' }}
        display={{ base: conversationId ? 'none' : 'block', md: 'block' }}
      >
        <ConversationList filter={filter} search={search} selectedId={conversationId} />
      </Box>
      {conversationId && (
        // At phone width the list (and its h1) is hidden while a thread is open.
        <Heading as="h1" srOnly hideFrom="md">
          {t('title')}
        </Heading>
      )}
      <Box flex="1" minW="0" display={{ base: conversationId ? 'flex' : 'none', md: 'flex' }}>
        {conversationId ? (
          <ThreadView id={conversationId} listSearch={listSearch} />
        ) : (
          <Flex flex="1" align="center" justify="center">
            <EmptyState icon={<LuInbox />} title={t('empty.pick')} description={t('empty.pickBody')} />
          </Flex>
        )}
      </Box>
    </Flex>
  );
}

export { InboxPage as Component };
