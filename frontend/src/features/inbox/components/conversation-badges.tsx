import { Badge, HStack } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import type { ConversationSummary } from '@/features/inbox/api/types';
import { replyAllowance } from '@/features/inbox/reply-rules';

/** Who answers (AI / human), whether it waits for the merchant, and whether one can reply. */
export function ConversationBadges({
  conversation,
  withWindow = true,
}: {
  conversation: ConversationSummary;
  withWindow?: boolean;
}) {
  const { t } = useTranslation('inbox');
  const allowance = replyAllowance(conversation.window);
  const windowKey = allowance.kind === 'normal' ? 'open' : allowance.kind === 'tagged' ? 'human_agent_only' : 'closed';
  return (
    <HStack gap="1" wrap="wrap">
      {conversation.needs_human && (
        <Badge colorPalette="orange" variant="solid" bg="orange.700" color="white" size="sm">
          {t('badge.needsHuman')}
        </Badge>
      )}
      <Badge colorPalette={conversation.mode === 'ai' ? 'purple' : 'teal'} size="sm" data-testid="mode-badge">
        {t(conversation.mode === 'ai' ? 'badge.ai' : 'badge.human')}
      </Badge>
      {conversation.state === 'closed' && (
        <Badge colorPalette="gray" size="sm">
          {t('badge.closed')}
        </Badge>
      )}
      {withWindow && allowance.kind !== 'normal' && (
        <Badge colorPalette={allowance.kind === 'tagged' ? 'yellow' : 'red'} variant="outline" size="sm">
          {t(`window.${windowKey}`)}
        </Badge>
      )}
    </HStack>
  );
}
