// Where the merchant writes: a reply to the customer (as Instagram's window allows) or an
// internal note. Says what will happen before sending, and shows the server's refusal here.
import { Alert, Button, ButtonGroup, Field, Flex, Stack, Text, Textarea } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSendToThread } from '@/features/inbox/api/conversation-actions';
import type { ConversationDetail } from '@/features/inbox/api/types';
import { allowanceMessageKey, MAX_REPLY_CHARS, replyAllowance, replyTextProblem } from '@/features/inbox/reply-rules';
import { customerName } from '@/features/inbox/components/customer-name';
import { errorMessage } from '@/lib/api-client';
import { formatDateTime } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import { toaster } from '@/components/toaster';

type Mode = 'reply' | 'note';

export function ReplyBox({ conversation }: { conversation: ConversationDetail }) {
  const { t } = useTranslation('inbox');
  const language = useLanguage();
  const allowance = replyAllowance(conversation.window);
  const blocked = allowance.kind === 'blocked';
  const [mode, setMode] = useState<Mode>(blocked ? 'note' : 'reply');
  const [text, setText] = useState('');
  const [localProblem, setLocalProblem] = useState<string | null>(null);
  const reply = useSendToThread(conversation.id, 'reply');
  const note = useSendToThread(conversation.id, 'note');
  const sending = mode === 'reply' ? reply : note;

  useEffect(() => {
    if (blocked && mode === 'reply') setMode('note');
  }, [blocked, mode]);

  // A different conversation starts with an empty box.
  useEffect(() => {
    setText('');
    setLocalProblem(null);
    reply.reset();
    note.reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversation.id]);

  const serverProblem = sending.isError ? errorMessage(sending.error) : null;
  const problem = localProblem ?? serverProblem;
  const windowText = t(allowanceMessageKey(allowance), {
    time: allowance.closesAt ? formatDateTime(allowance.closesAt, language) : '',
  });
  const name = customerName(conversation.customer);

  const submit = () => {
    const kind = replyTextProblem(text);
    if (kind) {
      setLocalProblem(kind === 'empty' ? t('reply.empty') : t('reply.tooLong', { max: MAX_REPLY_CHARS }));
      return;
    }
    setLocalProblem(null);
    sending.mutate(text.trim(), {
      onSuccess: () => {
        setText('');
        toaster.create({ type: 'success', description: t(mode === 'reply' ? 'reply.sent' : 'reply.noteAdded') });
      },
    });
  };

  return (
    <Stack
      as="form"
      gap="2"
      p="3"
      borderTopWidth="1px"
      bg={mode === 'note' ? 'yellow.subtle/50' : 'bg'}
      onSubmit={(event: React.FormEvent) => {
        event.preventDefault();
        submit();
      }}
      data-testid="reply-box"
    >
      <Flex gap="2" align="center" wrap="wrap">
        <ButtonGroup size="xs" variant="outline" attached role="group" aria-label={t('reply.mode')}>
          <Button
            aria-pressed={mode === 'reply'}
            variant={mode === 'reply' ? 'solid' : 'outline'}
            disabled={blocked}
            onClick={() => setMode('reply')}
          >
            {t('reply.reply')}
          </Button>
          <Button
            aria-pressed={mode === 'note'}
            variant={mode === 'note' ? 'solid' : 'outline'}
            onClick={() => setMode('note')}
          >
            {t('reply.note')}
          </Button>
        </ButtonGroup>
      </Flex>

      <Alert.Root
        status={allowance.kind === 'normal' ? 'info' : allowance.kind === 'tagged' ? 'warning' : 'error'}
        size="sm"
        variant="subtle"
        data-testid="reply-window"
        data-kind={allowance.kind}
      >
        <Alert.Indicator />
        <Alert.Description>
          {windowText}
          {mode === 'reply' && conversation.mode === 'ai' && !blocked ? ` ${t('reply.takesOver')}` : ''}
        </Alert.Description>
      </Alert.Root>

      <Field.Root invalid={Boolean(problem)}>
        <Field.Label srOnly>{mode === 'reply' ? t('reply.replyLabel', { name }) : t('reply.noteLabel')}</Field.Label>
        <Textarea
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            if (localProblem) setLocalProblem(null);
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
              event.preventDefault();
              submit();
            }
          }}
          placeholder={mode === 'reply' ? t('reply.placeholderReply') : t('reply.placeholderNote')}
          autoresize
          maxH="40"
          rows={2}
          dir="auto"
          bg="bg"
        />
        {problem && <Field.ErrorText data-testid="reply-error">{problem}</Field.ErrorText>}
      </Field.Root>
      <Flex gap="3" align="center" justify="flex-end">
        <Text textStyle="xs" color="fg.muted" display={{ base: 'none', md: 'block' }}>
          {t('reply.shortcut')}
        </Text>
        <Text textStyle="xs" dir="ltr" color={[...text.trim()].length > MAX_REPLY_CHARS ? 'fg.error' : 'fg.muted'}>
          {t('reply.count', { count: [...text.trim()].length, max: MAX_REPLY_CHARS })}
        </Text>
        <Button type="submit" size="sm" loading={sending.isPending} colorPalette={mode === 'note' ? 'yellow' : 'blue'}>
          {mode === 'note' ? t('reply.addNote') : allowance.kind === 'tagged' ? t('reply.sendTagged') : t('reply.send')}
        </Button>
      </Flex>
    </Stack>
  );
}
