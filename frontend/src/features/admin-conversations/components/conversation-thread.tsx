// One conversation, read-only: who wrote each message and when; purged text (GDPR, after 30
// days) says so instead of showing nothing.
import { Badge, Box, Flex, Stack, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { DateTime } from '@/components/date-time';
import type { ViewedMessage } from '@/features/admin-conversations/api/conversations';

export function ConversationThread({ messages }: { messages: ViewedMessage[] }) {
  const { t } = useTranslation('admin');
  if (messages.length === 0) {
    return (
      <Text color="fg.muted" p="4">
        {t('conversations.noMessages')}
      </Text>
    );
  }
  return (
    <Box role="log" aria-label={t('conversations.thread')} data-testid="admin-thread">
    <Stack as="ol" listStyleType="none" m="0" p="0" gap="3">
      {messages.map((message) => {
        const inbound = message.direction === 'inbound';
        return (
          <Flex as="li" key={message.id} justify={inbound ? 'flex-start' : 'flex-end'} data-testid="admin-message" data-author={message.author}>
            <Box
              maxW={{ base: '90%', md: '70%' }}
              bg={inbound ? 'bg' : 'purple.subtle'}
              borderWidth="1px"
              rounded="lg"
              px="3"
              py="2"
            >
              <Flex gap="2" align="center" mb="1" wrap="wrap">
                <Badge size="sm" colorPalette={inbound ? 'gray' : 'purple'}>
                  {t(`author.${message.author}`, { defaultValue: message.author })}
                </Badge>
                <Text textStyle="xs" color="fg.muted">
                  <DateTime value={message.sent_at} />
                </Text>
              </Flex>
              {message.text_purged ? (
                <Text fontStyle="italic" color="fg.muted">
                  {t('conversations.purged')}
                </Text>
              ) : message.text ? (
                <Text whiteSpace="pre-wrap" dir="auto">
                  {message.text}
                </Text>
              ) : (
                <Text fontStyle="italic" color="fg.muted">
                  {t('conversations.noText')}
                </Text>
              )}
            </Box>
          </Flex>
        );
      })}
    </Stack>
    </Box>
  );
}
