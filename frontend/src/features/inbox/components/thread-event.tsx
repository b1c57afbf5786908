// One entry of a thread: a message (customer, AI, you, you in the Instagram app) with its
// attachments, story reply, reaction and delivery state; or a note or a system event.
import { Badge, Box, Flex, HStack, Image, Link, Stack, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { LuBot, LuCircleAlert, LuCheck, LuClock, LuShoppingBag, LuStickyNote, LuWrench } from 'react-icons/lu';
import { Money } from '@/components/money';
import type { ThreadEvent } from '@/features/inbox/api/types';
import { formatDateTime, formatStamp } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

// The server records mode changes with fixed English sentences (shared/src/conversations);
// these are shown in the merchant's language. Any other text is shown as the server wrote it.
const MODE_CHANGE_TEXTS: Record<string, string> = {
  'You took over: the AI is paused for this conversation.': 'event.modeTakeover',
  'You handed the conversation back to the AI.': 'event.modeAi',
  'You answered: the AI is paused for this conversation.': 'event.modeAnswered',
  'A person answered from the Instagram app: the AI is paused for this conversation.': 'event.modeAppHuman',
};

const ATTACHMENT_KINDS = ['image', 'video', 'audio', 'file', 'share', 'story_mention', 'reel'];

function Attachments({ event }: { event: ThreadEvent }) {
  const { t } = useTranslation('inbox');
  if (event.attachments.length === 0) return null;
  return (
    <Stack gap="2">
      {event.attachments.map((attachment, index) => {
        const kind = ATTACHMENT_KINDS.includes(attachment.type) ? attachment.type : 'other';
        const label = t(`event.attachment.${kind}`);
        if (attachment.type === 'image' && attachment.url) {
          return (
            <Link key={index} href={attachment.url} target="_blank" rel="noreferrer">
              <Image src={attachment.url} alt={label} maxH="48" maxW="full" rounded="md" loading="lazy" />
            </Link>
          );
        }
        return (
          <HStack key={index} gap="2" textStyle="sm">
            <Badge size="sm" variant="outline">
              {label}
            </Badge>
            {attachment.url && (
              <Link href={attachment.url} target="_blank" rel="noreferrer" textDecoration="underline">
                {t('event.open')}
              </Link>
            )}
          </HStack>
        );
      })}
    </Stack>
  );
}

function Delivery({ delivery }: { delivery: NonNullable<ThreadEvent['delivery']> }) {
  const { t } = useTranslation('inbox');
  const icon = delivery.status === 'sent' ? <LuCheck /> : delivery.status === 'failed' ? <LuCircleAlert /> : <LuClock />;
  return (
    <HStack
      gap="1"
      textStyle="xs"
      alignItems="flex-start"
      color={delivery.status === 'failed' ? 'fg.error' : 'fg.muted'}
      data-testid="delivery-state"
      data-status={delivery.status}
    >
      <span aria-hidden>{icon}</span>
      <span>
        {t(`event.delivery.${delivery.status}`)}
        {delivery.error ? ` — ${delivery.error}` : ''}
      </span>
    </HStack>
  );
}

function SystemLine({ icon, children, at }: { icon?: React.ReactNode; children: React.ReactNode; at: string }) {
  const language = useLanguage();
  return (
    <Flex justify="center" my="2" data-testid="system-event">
      <HStack
        gap="2"
        bg="bg.muted"
        color="fg.muted"
        textStyle="xs"
        px="3"
        py="1"
        rounded="full"
        maxW="90%"
        title={formatDateTime(at, language)}
      >
        {icon && <span aria-hidden>{icon}</span>}
        <Text as="span">{children}</Text>
        <time dateTime={at}>{formatStamp(at, language)}</time>
      </HStack>
    </Flex>
  );
}

function Message({ event }: { event: ThreadEvent }) {
  const { t } = useTranslation('inbox');
  const language = useLanguage();
  const ours = event.author !== 'customer';
  const palette =
    event.author === 'customer'
      ? { bg: 'bg', borderWidth: '1px' }
      : event.author === 'ai'
        ? { bg: 'purple.subtle' }
        : { bg: 'teal.subtle' };
  const storyReply = event.reply_to?.story_url;
  return (
    <Flex justify={ours ? 'flex-end' : 'flex-start'} my="1.5" data-testid="message" data-author={event.author}>
      <Stack gap="1" maxW={{ base: '85%', md: '70%' }} align={ours ? 'flex-end' : 'flex-start'}>
        <HStack gap="1" textStyle="xs" color="fg.muted">
          {event.author === 'ai' && <LuBot aria-hidden />}
          <span>{t(`author.${event.author}`)}</span>
          <span aria-hidden>·</span>
          <time dateTime={event.at} title={formatDateTime(event.at, language)}>
            {formatStamp(event.at, language)}
          </time>
        </HStack>
        <Stack gap="2" px="3" py="2" rounded="xl" {...palette}>
          {(storyReply || event.reply_to?.text) && (
            <Box borderStartWidth="3px" borderColor="border.emphasized" ps="2" textStyle="xs" color="fg.muted">
              {storyReply ? (
                <Link href={storyReply} target="_blank" rel="noreferrer" textDecoration="underline">
                  {t('event.storyReply')}
                </Link>
              ) : (
                t('event.repliedTo', { text: event.reply_to?.text })
              )}
            </Box>
          )}
          {event.text && (
            <Text whiteSpace="pre-wrap" wordBreak="break-word" dir="auto">
              {event.text}
            </Text>
          )}
          <Attachments event={event} />
          {event.reaction && (
            <Text textStyle="sm" color="fg.muted">
              {t('event.reaction', { reaction: event.reaction })}
            </Text>
          )}
        </Stack>
        {event.delivery && <Delivery delivery={event.delivery} />}
      </Stack>
    </Flex>
  );
}

export function ThreadEventView({ event }: { event: ThreadEvent }) {
  const { t } = useTranslation('inbox');
  switch (event.kind) {
    case 'message':
      return <Message event={event} />;
    case 'note':
      return (
        <Flex justify="flex-end" my="1.5" data-testid="note">
          <Stack gap="1" maxW={{ base: '85%', md: '70%' }} bg="yellow.subtle" borderWidth="1px" borderColor="yellow.muted" rounded="lg" px="3" py="2">
            <HStack gap="1" textStyle="xs" color="fg.muted">
              <LuStickyNote aria-hidden />
              <span>{t('event.note')}</span>
            </HStack>
            <Text whiteSpace="pre-wrap" wordBreak="break-word" dir="auto">
              {event.text}
            </Text>
          </Stack>
        </Flex>
      );
    case 'handoff':
      return (
        <SystemLine at={event.at}>
          {t('event.handoff')}
          {event.text ? ` — ${event.text}` : ''}
        </SystemLine>
      );
    case 'mode_change': {
      const known = event.text ? MODE_CHANGE_TEXTS[event.text] : undefined;
      const label = known
        ? t(known)
        : event.text
          ? event.text
          : event.author === 'merchant_app'
          ? t('event.modeAppHuman')
          : event.author === 'ai' || event.author === 'system'
            ? t('event.modeAi')
            : t('event.modeHuman');
      return <SystemLine at={event.at}>{label}</SystemLine>;
    }
    case 'order':
      return (
        <SystemLine at={event.at} icon={<LuShoppingBag />}>
          {event.order ? (
            <>
              {t('event.order', { number: event.order.number })} · {t('event.orderStatus', { status: event.order.status })} ·{' '}
              <Money jod={event.order.total_jod} />
            </>
          ) : (
            event.text
          )}
        </SystemLine>
      );
    case 'tool':
      return (
        <SystemLine at={event.at} icon={<LuWrench />}>
          {t('event.tool', { name: event.tool?.name ?? '' })}
          {event.tool?.summary ? ` — ${event.tool.summary}` : ''}
        </SystemLine>
      );
    case 'closed':
      return <SystemLine at={event.at}>{t('event.closed')}</SystemLine>;
    case 'reopened':
      return <SystemLine at={event.at}>{t('event.reopened')}</SystemLine>;
    default:
      return event.text ? <SystemLine at={event.at}>{event.text}</SystemLine> : null;
  }
}
