// The open conversation: who the customer is, what happened (polled), the merchant's actions
// (take over / hand back / close / reopen) and the reply box. Opening it marks it read.
import { Box, Button, Flex, Heading, HStack, IconButton, Stack, Text } from '@chakra-ui/react';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuArrowLeft, LuArrowRight, LuBot, LuLock, LuLockOpen, LuUserCheck } from 'react-icons/lu';
import { Link } from 'react-router';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { toaster } from '@/components/toaster';
import { paths } from '@/config/paths';
import { useConversationAction, useMarkRead } from '@/features/inbox/api/conversation-actions';
import { fetchOlderEvents, useThread } from '@/features/inbox/api/get-thread';
import type { ConversationDetail, ThreadEvent } from '@/features/inbox/api/types';
import { ConversationBadges } from '@/features/inbox/components/conversation-badges';
import { customerName } from '@/features/inbox/components/customer-name';
import { ReplyBox } from '@/features/inbox/components/reply-box';
import { ThreadEventView } from '@/features/inbox/components/thread-event';
import { errorMessage, isApiError } from '@/lib/api-client';
import { useDirection } from '@/lib/i18n';
import { asParams, reasonText } from '@/lib/reason-text';

function Actions({ conversation }: { conversation: ConversationDetail }) {
  const { t } = useTranslation('inbox');
  const action = useConversationAction(conversation.id);
  const run = (name: 'takeover' | 'handback' | 'close' | 'reopen') =>
    action.mutate(name, {
      onSuccess: () => toaster.create({ type: 'success', description: t(`actions.done.${name}`) }),
    });
  const busy = (name: string) => action.isPending && action.variables === name;
  return (
    <HStack gap="2" wrap="wrap" role="group" aria-label={t('actions.label')}>
      {conversation.mode === 'ai' ? (
        <Button size="sm" colorPalette="blue" onClick={() => run('takeover')} loading={busy('takeover')} title={t('actions.takeoverHint')}>
          <LuUserCheck aria-hidden />
          {t('actions.takeover')}
        </Button>
      ) : (
        <Button size="sm" colorPalette="purple" variant="outline" onClick={() => run('handback')} loading={busy('handback')}>
          <LuBot aria-hidden />
          {t('actions.handback')}
        </Button>
      )}
      {conversation.state === 'open' ? (
        <Button size="sm" variant="ghost" onClick={() => run('close')} loading={busy('close')}>
          <LuLock aria-hidden />
          {t('actions.close')}
        </Button>
      ) : (
        <Button size="sm" variant="ghost" onClick={() => run('reopen')} loading={busy('reopen')}>
          <LuLockOpen aria-hidden />
          {t('actions.reopen')}
        </Button>
      )}
    </HStack>
  );
}

function CustomerDetails({ conversation }: { conversation: ConversationDetail }) {
  const { t } = useTranslation('inbox');
  const { phone, city, address, username } = conversation.customer;
  const parts = [
    username && conversation.customer.name ? `@${username}` : null,
    phone ? `${t('thread.phone')}: ${phone}` : null,
    city ? `${t('thread.city')}: ${city}` : null,
    address ? `${t('thread.address')}: ${address}` : null,
  ].filter(Boolean);
  if (parts.length === 0) return null;
  return (
    <Text textStyle="xs" color="fg.muted">
      <bdi>{parts.join(' · ')}</bdi>
    </Text>
  );
}

function mergeEvents(older: ThreadEvent[], latest: ThreadEvent[]): ThreadEvent[] {
  const seen = new Set(latest.map((event) => event.id));
  return [...older.filter((event) => !seen.has(event.id)), ...latest];
}

export function ThreadView({ id, listSearch }: { id: string; listSearch: string }) {
  const { t } = useTranslation('inbox');
  const { t: tAlerts } = useTranslation('alerts');
  const direction = useDirection();
  const thread = useThread(id);
  const markRead = useMarkRead(id);
  const [older, setOlder] = useState<ThreadEvent[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null | undefined>(undefined);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  useEffect(() => {
    setOlder([]);
    setOlderCursor(undefined);
    setOlderError(null);
    stickToBottom.current = true;
  }, [id]);

  const conversation = thread.data?.conversation;
  const unread = conversation?.unread_count ?? 0;
  useEffect(() => {
    if (unread > 0 && document.visibilityState === 'visible' && !markRead.isPending) markRead.mutate();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, unread]);

  const events = mergeEvents(older, thread.data?.events ?? []);
  const cursor = olderCursor === undefined ? thread.data?.older_cursor : olderCursor;

  // Keep the newest message in view when new ones arrive, unless the merchant scrolled up.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stickToBottom.current) element.scrollTop = element.scrollHeight;
  }, [events.length, id]);

  const loadOlder = async () => {
    if (!cursor) return;
    setLoadingOlder(true);
    setOlderError(null);
    const element = scroller.current;
    const before = element ? element.scrollHeight - element.scrollTop : 0;
    try {
      const page = await fetchOlderEvents(id, cursor);
      setOlder((current) => mergeEvents(page.events, current));
      setOlderCursor(page.older_cursor ?? null);
      requestAnimationFrame(() => {
        if (element) element.scrollTop = element.scrollHeight - before;
      });
    } catch (error) {
      setOlderError(errorMessage(error));
    } finally {
      setLoadingOlder(false);
    }
  };

  const back = (
    <IconButton asChild variant="ghost" size="sm" display={{ base: 'inline-flex', md: 'none' }} aria-label={t('thread.back')}>
      <Link to={{ pathname: paths.inbox.getHref(), search: listSearch }}>
        {direction === 'rtl' ? <LuArrowRight /> : <LuArrowLeft />}
      </Link>
    </IconButton>
  );

  if (thread.isPending) {
    return (
      <Box p="4" w="full">
        {back}
        <LoadingSkeleton rows={6} />
      </Box>
    );
  }
  if (thread.isError && !thread.data) {
    return (
      <Box p="4" w="full">
        {back}
        {isApiError(thread.error) && thread.error.status === 404 ? (
          <EmptyState title={t('thread.notFound')} />
        ) : (
          <ErrorAlert error={thread.error} onRetry={() => void thread.refetch()} />
        )}
      </Box>
    );
  }
  const detail = thread.data!.conversation;
  const name = customerName(detail.customer);

  return (
    <Flex direction="column" h="full" minH="0" w="full" as="section" aria-label={t('thread.label', { name })}>
      <Stack gap="2" px="4" py="3" borderBottomWidth="1px" bg="bg">
        <Flex gap="2" align="center" wrap="wrap">
          {back}
          <Stack gap="0.5" flex="1" minW="0" flexBasis={{ base: 'calc(100% - 3rem)', md: '0' }}>
            <Heading as="h2" size="md" truncate data-testid="thread-customer">
              <bdi>{name}</bdi>
            </Heading>
            <CustomerDetails conversation={detail} />
          </Stack>
          <Box w={{ base: 'full', md: 'auto' }}>
            <Actions conversation={detail} />
          </Box>
        </Flex>
        <ConversationBadges conversation={detail} />
        {detail.needs_human && detail.handoff_reason && (
          <Text textStyle="sm" color="orange.fg" data-testid="handoff-reason">
            {t('thread.handoffReason', {
              reason:
                reasonText(tAlerts, detail.handoff_reason_key, asParams(detail.handoff_reason_params)) ||
                detail.handoff_reason,
            })}
          </Text>
        )}
        {thread.isError && <ErrorAlert error={thread.error} />}
      </Stack>

      <Box
        ref={scroller}
        flex="1"
        minH="0"
        overflowY="auto"
        px={{ base: '3', md: '5' }}
        py="3"
        bg="bg.subtle"
        onScroll={(event) => {
          const element = event.currentTarget;
          stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
        }}
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        data-testid="thread-events"
        tabIndex={0}
      >
        {cursor ? (
          <Flex justify="center" mb="2">
            <Button size="xs" variant="outline" onClick={() => void loadOlder()} loading={loadingOlder} loadingText={t('thread.loadingEarlier')}>
              {t('thread.earlier')}
            </Button>
          </Flex>
        ) : events.length > 0 ? (
          <Text textAlign="center" textStyle="xs" color="fg.muted" mb="2">
            {t('thread.start')}
          </Text>
        ) : null}
        {olderError && <ErrorAlert error={new Error(olderError)} />}
        {events.length === 0 ? (
          <Text textAlign="center" color="fg.muted" py="8">
            {t('thread.noEvents')}
          </Text>
        ) : (
          events.map((event) => <ThreadEventView key={event.id} event={event} />)
        )}
      </Box>

      <ReplyBox conversation={detail} />
    </Flex>
  );
}
