// Test chat: write as a customer and see what the agent answers, its status and every tool it
// called (orders it places here are real orders of the shop, marked as test chat).
import { Badge, Box, Button, Card, Code, Collapsible, Field, Flex, Stack, Text, Textarea } from '@chakra-ui/react';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { LuRotateCcw, LuSend } from 'react-icons/lu';
import { ErrorAlert } from '@/components/error-alert';
import { isApiError } from '@/lib/api-client';
import { useTestChat, type TestChatAnswer } from '@/features/instructions/api/instructions';

type Turn = { id: number; message: string; answer: TestChatAnswer };
const STATUS_PALETTE = { replied: 'green', handed_off: 'orange', skipped: 'gray', failed: 'red' } as const;

export function TestChat() {
  const { t } = useTranslation('instructions');
  const chat = useTestChat();
  const [message, setMessage] = useState('');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [fresh, setFresh] = useState(true);
  const fieldError = isApiError(chat.error) ? chat.error.problemFor('message') : undefined;

  const send = (event: FormEvent) => {
    event.preventDefault();
    const text = message.trim();
    if (!text) return;
    chat.mutate(
      { body: { message: text, reset: fresh } },
      {
        onSuccess: (answer) => {
          setTurns((list) => [...list, { id: list.length + 1, message: text, answer }]);
          setMessage('');
          setFresh(false);
        },
      },
    );
  };

  const reset = () => {
    setTurns([]);
    setFresh(true);
    chat.reset();
  };

  return (
    <Card.Root variant="outline" position={{ lg: 'sticky' }} top="4">
      <Card.Header>
        <Flex justify="space-between" align="center" gap="2">
          <Card.Title as="h2">{t('chat.title')}</Card.Title>
          <Button size="sm" variant="ghost" onClick={reset} disabled={turns.length === 0 && fresh}>
            <LuRotateCcw aria-hidden /> {t('chat.reset')}
          </Button>
        </Flex>
        <Card.Description>{t('chat.description')}</Card.Description>
      </Card.Header>
      <Card.Body>
        <Stack gap="4">
          <Stack gap="4" aria-live="polite" aria-label={t('chat.log')} maxH={{ lg: '55vh' }} overflowY="auto" data-testid="test-chat-log">
            {turns.length === 0 && <Text color="fg.muted" textStyle="sm">{t('chat.empty')}</Text>}
            {turns.map((turn) => (
              <Stack key={turn.id} gap="2">
                <Box alignSelf="flex-end" bg="blue.subtle" px="3" py="2" rounded="l2" maxW="85%">
                  <Text srOnly>{t('chat.you')}: </Text>
                  <Text whiteSpace="pre-wrap" dir="auto">{turn.message}</Text>
                </Box>
                <Box alignSelf="flex-start" bg="bg.muted" px="3" py="2" rounded="l2" maxW="85%" data-testid="test-chat-reply">
                  <Flex gap="2" align="center" mb="1" wrap="wrap">
                    <Text textStyle="xs" fontWeight="semibold">{t('chat.agent')}</Text>
                    {turn.answer.status && (
                      <Badge size="sm" colorPalette={STATUS_PALETTE[turn.answer.status]}>{t(`chat.status.${turn.answer.status}`)}</Badge>
                    )}
                  </Flex>
                  {turn.answer.reply ? (
                    <Text whiteSpace="pre-wrap" dir="auto">{turn.answer.reply}</Text>
                  ) : (
                    <Text color="fg.muted" textStyle="sm">
                      {t('chat.noReply', { reason: turn.answer.skip_reason ?? '—' })}
                    </Text>
                  )}
                </Box>
                {turn.answer.tool_calls.map((call, i) => (
                  <Collapsible.Root key={i}>
                    <Box borderWidth="1px" rounded="md" px="3" py="2" borderColor={call.ok ? 'border' : 'border.error'} data-testid="test-chat-tool">
                      <Flex gap="2" align="center" wrap="wrap">
                        <Badge colorPalette={call.ok ? 'green' : 'red'}>{call.ok ? t('chat.toolOk') : t('chat.toolRefused')}</Badge>
                        <Code dir="ltr">{call.name}</Code>
                        <Collapsible.Trigger asChild>
                          <Button size="2xs" variant="ghost">{t('chat.arguments')}</Button>
                        </Collapsible.Trigger>
                      </Flex>
                      <Text textStyle="sm" mt="1" dir="auto">{call.summary}</Text>
                      <Collapsible.Content>
                        <Code as="pre" display="block" whiteSpace="pre-wrap" mt="2" p="2" dir="ltr" textAlign="left" unicodeBidi="plaintext">
                          {JSON.stringify(call.arguments, null, 2)}
                        </Code>
                      </Collapsible.Content>
                    </Box>
                  </Collapsible.Root>
                ))}
              </Stack>
            ))}
          </Stack>
          <form onSubmit={send} noValidate>
            <Field.Root invalid={Boolean(fieldError)}>
              <Field.Label>{t('chat.message')}</Field.Label>
              <Textarea
                value={message}
                onChange={(e) => setMessage(e.target.value)}
                rows={2}
                dir="auto"
                maxLength={2000}
                placeholder={t('chat.placeholder')}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && !e.shiftKey) send(e);
                }}
              />
              {fieldError ? <Field.ErrorText>{fieldError}</Field.ErrorText> : <Field.HelperText>{t('chat.hint')}</Field.HelperText>}
            </Field.Root>
            {chat.isError && !fieldError && <Box mt="2"><ErrorAlert error={chat.error} /></Box>}
            <Flex justify="flex-end" mt="3">
              <Button type="submit" colorPalette="blue" loading={chat.isPending} disabled={!message.trim()}>
                <LuSend aria-hidden /> {t('chat.send')}
              </Button>
            </Flex>
          </form>
        </Stack>
      </Card.Body>
    </Card.Root>
  );
}
