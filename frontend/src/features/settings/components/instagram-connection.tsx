import { Badge, Button, Flex, Stack, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { LuInstagram, LuRefreshCw } from 'react-icons/lu';
import { DateTime } from '@/components/date-time';
import { toaster } from '@/components/toaster';
import { INSTAGRAM_OAUTH_START } from '@/config/paths';
import { useResync } from '@/features/settings/api/settings';
import { useAuthOptions, useMe } from '@/lib/auth';
import { SettingsSection } from '@/features/settings/components/settings-section';

const PALETTE: Record<string, string> = {
  connected: 'green',
  local: 'blue',
  reconnect_needed: 'red',
  not_connected: 'gray',
};

export function InstagramConnection() {
  const { t } = useTranslation('settings');
  const me = useMe();
  const resync = useResync();
  const options = useAuthOptions();
  const instagramOffered = options.data?.instagram ?? true;
  const connection = me.data?.connection;
  const status = connection?.status ?? 'not_connected';
  const handle = me.data?.tenant.ig_handle;

  return (
    <SettingsSection id="instagram" title={t('instagram.title')} description={t('instagram.description')}>
      <Stack gap="4">
        <Flex gap="3" align="center" wrap="wrap">
          {handle && (
            <Text fontWeight="semibold" dir="ltr">
              @{handle}
            </Text>
          )}
          <Badge colorPalette={PALETTE[status] ?? 'gray'} data-testid="instagram-status">
            {t(`instagram.status.${status}`, { defaultValue: status })}
          </Badge>
        </Flex>
        <Text textStyle="sm" color="fg.muted">
          {t(`instagram.explain.${status}`, { defaultValue: '' })}
        </Text>
        {connection?.token_expires_at && (
          <Text textStyle="sm">
            {t('instagram.expires')} <DateTime value={connection.token_expires_at} />
          </Text>
        )}
        <Flex gap="2" wrap="wrap">
          {instagramOffered && (
          <Button asChild colorPalette={status === 'reconnect_needed' ? 'red' : 'pink'} variant={status === 'connected' ? 'outline' : 'solid'}>
            <a href={INSTAGRAM_OAUTH_START}>
              <LuInstagram aria-hidden />
              {status === 'connected' || status === 'reconnect_needed' ? t('instagram.reconnect') : t('instagram.connect')}
            </a>
          </Button>
          )}
          <Button
            variant="outline"
            loading={resync.isPending}
            disabled={status !== 'connected'}
            onClick={() =>
              resync.mutate(undefined, {
                onSuccess: (report) =>
                  toaster.create({
                    type: 'success',
                    description: t('instagram.resynced', {
                      conversations: report.conversations_read,
                      added: report.messages_added,
                    }),
                  }),
              })
            }
          >
            <LuRefreshCw aria-hidden />
            {t('instagram.resync')}
          </Button>
        </Flex>
        {status !== 'connected' && (
          <Text textStyle="xs" color="fg.muted">
            {t('instagram.resyncNeedsConnection')}
          </Text>
        )}
      </Stack>
    </SettingsSection>
  );
}
