// The list side of the inbox: search, filters, and the conversations (waiting-for-you first,
// as the server orders them), refreshed every few seconds.
import { Box, Button, Circle, Flex, Heading, Input, InputGroup, Stack, Text, VisuallyHidden } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuInbox, LuSearch } from 'react-icons/lu';
import { Link, useSearchParams } from 'react-router';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { paths } from '@/config/paths';
import { INBOX_FILTERS, type InboxFilter, useConversations } from '@/features/inbox/api/get-conversations';
import type { ConversationSummary } from '@/features/inbox/api/types';
import { ConversationBadges } from '@/features/inbox/components/conversation-badges';
import { customerName } from '@/features/inbox/components/customer-name';
import { formatRelative } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

function Preview({ conversation }: { conversation: ConversationSummary }) {
  const { t } = useTranslation('inbox');
  const last = conversation.last_message;
  if (!last) return <>{t('preview.nothing')}</>;
  const text = last.text?.trim() || t('preview.attachment');
  if (last.author === 'ai' || last.author === 'merchant' || last.author === 'merchant_app') {
    return <>{t(`preview.${last.author}`, { text })}</>;
  }
  return <>{text}</>;
}

function ConversationRow({
  conversation,
  selected,
  search,
}: {
  conversation: ConversationSummary;
  selected: boolean;
  search: string;
}) {
  const { t } = useTranslation('inbox');
  const language = useLanguage();
  const name = customerName(conversation.customer);
  const unread = conversation.unread_count > 0;
  return (
    <Box as="li" listStyleType="none">
      <Link
        to={{ pathname: paths.conversation.getHref(conversation.id), search }}
        aria-current={selected ? 'page' : undefined}
        data-testid="conversation-row"
      >
        <Flex
          gap="3"
          px="4"
          py="3"
          borderBottomWidth="1px"
          bg={selected ? 'blue.subtle' : conversation.needs_human ? 'orange.subtle/40' : undefined}
          _hover={{ bg: selected ? 'blue.subtle' : 'bg.muted' }}
          align="flex-start"
        >
          <Circle size="9" bg="gray.subtle" color="fg.muted" fontWeight="semibold" flexShrink={0} aria-hidden>
            {name.replace('@', '').slice(0, 1).toUpperCase()}
          </Circle>
          <Stack gap="1" flex="1" minW="0">
            <Flex gap="2" align="baseline">
              <Text fontWeight={unread ? 'bold' : 'medium'} truncate flex="1">
                <bdi>{name}</bdi>
              </Text>
              {conversation.last_message_at && (
                <Text as="span" textStyle="xs" color="fg.muted" flexShrink={0}>
                  <time dateTime={conversation.last_message_at}>
                    {formatRelative(conversation.last_message_at, language)}
                  </time>
                </Text>
              )}
            </Flex>
            <Flex gap="2" align="center">
              <Text textStyle="sm" color={unread ? 'fg' : 'fg.muted'} truncate flex="1">
                <bdi>
                  <Preview conversation={conversation} />
                </bdi>
              </Text>
              {unread && (
                <Circle size="5" bg="blue.solid" color="white" fontSize="xs" flexShrink={0}>
                  <span aria-hidden>{conversation.unread_count}</span>
                  <VisuallyHidden>{t('badge.unread', { count: conversation.unread_count })}</VisuallyHidden>
                </Circle>
              )}
            </Flex>
            <ConversationBadges conversation={conversation} />
          </Stack>
        </Flex>
      </Link>
    </Box>
  );
}

export function ConversationList({
  filter,
  search,
  selectedId,
}: {
  filter: InboxFilter;
  search: string;
  selectedId: string | undefined;
}) {
  const { t } = useTranslation('inbox');
  const [params, setParams] = useSearchParams();
  const [typed, setTyped] = useState(search);
  const conversations = useConversations(filter, search);

  // The search goes to the URL (and the server) once the merchant pauses typing.
  useEffect(() => {
    const handle = setTimeout(() => {
      if (typed.trim() === search) return;
      const next = new URLSearchParams(params);
      if (typed.trim()) next.set('q', typed.trim());
      else next.delete('q');
      setParams(next, { replace: true });
    }, 300);
    return () => clearTimeout(handle);
  }, [typed, search, params, setParams]);

  const setFilter = (value: InboxFilter) => {
    const next = new URLSearchParams(params);
    if (value === 'all') next.delete('filter');
    else next.set('filter', value);
    setParams(next, { replace: true });
  };

  const items = conversations.data?.pages.flatMap((page) => page.conversations) ?? [];
  const searchString = params.toString() ? `?${params.toString()}` : '';
  const filtered = filter !== 'all' || search !== '';

  return (
    <Flex direction="column" h="full" minH="0">
      <Stack gap="3" p="4" borderBottomWidth="1px">
        <Heading as="h1" size="lg">
          {t('title')}
        </Heading>
        <InputGroup startElement={<LuSearch aria-hidden />}>
          <Input
            aria-label={t('search.label')}
            type="search"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            placeholder={t('search.placeholder')}
            size="sm"
          />
        </InputGroup>
        <Flex gap="1.5" wrap="wrap" role="group" aria-label={t('filters.label')}>
          {INBOX_FILTERS.map((value) => (
            <Button
              key={value}
              size="xs"
              rounded="full"
              variant={filter === value ? 'solid' : 'outline'}
              aria-pressed={filter === value}
              onClick={() => setFilter(value)}
            >
              {t(`filters.${value}`)}
            </Button>
          ))}
        </Flex>
      </Stack>

      <Box flex="1" overflowY="auto" minH="0" aria-label={t('listLabel')} as="nav">
        {conversations.isPending ? (
          <Box p="4">
            <LoadingSkeleton rows={5} />
          </Box>
        ) : conversations.isError && items.length === 0 ? (
          <Box p="4">
            <ErrorAlert error={conversations.error} onRetry={() => void conversations.refetch()} />
          </Box>
        ) : items.length === 0 ? (
          filtered ? (
            <EmptyState
              icon={<LuSearch />}
              title={t('empty.filtered')}
              description={t('empty.filteredBody')}
              action={
                <Button
                  size="sm"
                  variant="outline"
                  onClick={() => {
                    setTyped('');
                    setParams(new URLSearchParams(), { replace: true });
                  }}
                >
                  {t('empty.clear')}
                </Button>
              }
            />
          ) : (
            <EmptyState icon={<LuInbox />} title={t('empty.none')} description={t('empty.noneBody')} />
          )
        ) : (
          <>
            <Box as="ul" m="0" p="0" data-testid="conversation-list">
              {items.map((conversation) => (
                <ConversationRow
                  key={conversation.id}
                  conversation={conversation}
                  selected={conversation.id === selectedId}
                  search={searchString}
                />
              ))}
            </Box>
            {conversations.hasNextPage && (
              <Box p="3" textAlign="center">
                <Button
                  size="sm"
                  variant="ghost"
                  loading={conversations.isFetchingNextPage}
                  loadingText={t('loadingMore')}
                  onClick={() => void conversations.fetchNextPage()}
                >
                  {t('loadMore')}
                </Button>
              </Box>
            )}
          </>
        )}
      </Box>
    </Flex>
  );
}
