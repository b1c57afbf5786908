// The conversation viewer: /admin/conversations?shop=&page= lists a shop's conversations;
// /admin/conversations/:tenantId/:conversationId shows one, read-only. The screen says that
// each view is written to the audit log (the server does it before answering).
import { Alert, Box, Button, ButtonGroup, Field, Flex, NativeSelect, Stack, Table, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { LuArrowLeft, LuArrowRight, LuMessagesSquare } from 'react-icons/lu';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { DateTime } from '@/components/date-time';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import { paths } from '@/config/paths';
import {
  pageCount,
  useShopConversations,
  useShopsToView,
  useViewedConversation,
} from '@/features/admin-conversations/api/conversations';
import { ConversationThread } from '@/features/admin-conversations/components/conversation-thread';
import { formatNumber } from '@/lib/format';
import { useDirection, useLanguage } from '@/lib/i18n';

function AuditNotice() {
  const { t } = useTranslation('admin');
  return (
    <Alert.Root status="warning" data-testid="audit-notice">
      <Alert.Indicator />
      <Alert.Content>
        <Alert.Title>{t('conversations.auditTitle')}</Alert.Title>
        <Alert.Description>{t('conversations.audit')}</Alert.Description>
      </Alert.Content>
    </Alert.Root>
  );
}

function ShopPicker({ value }: { value: string | null }) {
  const { t } = useTranslation('admin');
  const shops = useShopsToView();
  const navigate = useNavigate();
  if (shops.isError) return <ErrorAlert error={shops.error} onRetry={() => void shops.refetch()} />;
  return (
    <Field.Root maxW="sm">
      <Field.Label>{t('conversations.shop')}</Field.Label>
      <NativeSelect.Root disabled={shops.isPending}>
        <NativeSelect.Field
          value={value ?? ''}
          onChange={(event) => void navigate(paths.adminConversations.getHref(event.target.value || undefined))}
          data-testid="shop-picker"
        >
          <option value="">{t('conversations.pickShop')}</option>
          {shops.data?.tenants.map((shop) => (
            <option key={shop.id} value={shop.id}>
              {shop.ig_handle ? `@${shop.ig_handle}` : (shop.display_name ?? shop.id)}
            </option>
          ))}
        </NativeSelect.Field>
        <NativeSelect.Indicator />
      </NativeSelect.Root>
    </Field.Root>
  );
}

function ConversationList({ tenantId, page }: { tenantId: string; page: number }) {
  const { t } = useTranslation('admin');
  const language = useLanguage();
  const direction = useDirection();
  const list = useShopConversations(tenantId, page);
  if (list.isPending) return <LoadingSkeleton />;
  if (list.isError) return <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />;
  const { conversations, total, per_page } = list.data;
  if (conversations.length === 0) {
    return (
      <Box borderWidth="1px" rounded="lg" bg="bg">
        <EmptyState icon={<LuMessagesSquare />} title={t('conversations.emptyTitle')} description={t('conversations.empty')} headingLevel="p" />
      </Box>
    );
  }
  const pages = pageCount(total, per_page);
  const Prev = direction === 'rtl' ? LuArrowRight : LuArrowLeft;
  const Next = direction === 'rtl' ? LuArrowLeft : LuArrowRight;
  return (
    <Stack gap="3">
      <Table.ScrollArea borderWidth="1px" rounded="lg" bg="bg">
        <Table.Root size="sm" data-testid="admin-conversations">
          <Table.Header>
            <Table.Row>
              <Table.ColumnHeader>{t('conversations.customer')}</Table.ColumnHeader>
              <Table.ColumnHeader>{t('conversations.kind')}</Table.ColumnHeader>
              <Table.ColumnHeader>{t('conversations.mode')}</Table.ColumnHeader>
              <Table.ColumnHeader textAlign="end">{t('conversations.messages')}</Table.ColumnHeader>
              <Table.ColumnHeader>{t('conversations.last')}</Table.ColumnHeader>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {conversations.map((c) => (
              <Table.Row key={c.id} data-testid="admin-conversation-row">
                <Table.Cell>
                  <Link to={paths.adminConversation.getHref(tenantId, c.id)}>
                    <bdi>{c.customer_name ?? (c.customer_username ? `@${c.customer_username}` : t('conversations.unknownCustomer'))}</bdi>
                  </Link>
                </Table.Cell>
                <Table.Cell>{t(`kind.${c.kind}`, { defaultValue: c.kind })}</Table.Cell>
                <Table.Cell>{t(`mode.${c.mode}`, { defaultValue: c.mode })}</Table.Cell>
                <Table.Cell textAlign="end">{formatNumber(c.messages, language)}</Table.Cell>
                <Table.Cell whiteSpace="nowrap">
                  <DateTime value={c.last_message_at} relative />
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table.Root>
      </Table.ScrollArea>
      <Flex align="center" gap="3" justify="space-between" wrap="wrap">
        <Text textStyle="sm" color="fg.muted">
          {t('conversations.pageOf', { page: formatNumber(page, language), pages: formatNumber(pages, language), total: formatNumber(total, language) })}
        </Text>
        <ButtonGroup size="sm" variant="outline">
          {page > 1 ? (
            <Button asChild>
              <Link to={paths.adminConversations.getHref(tenantId, page - 1)}>
                <Prev aria-hidden />
                {t('conversations.previous')}
              </Link>
            </Button>
          ) : (
            <Button disabled>
              <Prev aria-hidden />
              {t('conversations.previous')}
            </Button>
          )}
          {page < pages ? (
            <Button asChild>
              <Link to={paths.adminConversations.getHref(tenantId, page + 1)}>
                {t('conversations.next')}
                <Next aria-hidden />
              </Link>
            </Button>
          ) : (
            <Button disabled>
              {t('conversations.next')}
              <Next aria-hidden />
            </Button>
          )}
        </ButtonGroup>
      </Flex>
    </Stack>
  );
}

function OneConversation({ tenantId, conversationId }: { tenantId: string; conversationId: string }) {
  const { t } = useTranslation('admin');
  const view = useViewedConversation(tenantId, conversationId);
  const direction = useDirection();
  const Back = direction === 'rtl' ? LuArrowRight : LuArrowLeft;
  const c = view.data?.conversation;
  const who = c ? (c.customer_name ?? (c.customer_username ? `@${c.customer_username}` : t('conversations.unknownCustomer'))) : '';
  return (
    <Stack gap="4">
      <Box>
        <Button asChild size="sm" variant="ghost">
          <Link to={paths.adminConversations.getHref(tenantId)}>
            <Back aria-hidden />
            {t('conversations.back')}
          </Link>
        </Button>
      </Box>
      <PageHeader title={c ? t('conversations.with', { who }) : t('conversations.title')} description={t('conversations.readOnly')} />
      <AuditNotice />
      {view.isPending ? (
        <LoadingSkeleton />
      ) : view.isError ? (
        <ErrorAlert error={view.error} onRetry={() => void view.refetch()} />
      ) : (
        <Box borderWidth="1px" rounded="lg" bg="bg.subtle" p={{ base: '3', md: '4' }}>
          <ConversationThread messages={view.data.messages} />
        </Box>
      )}
    </Stack>
  );
}

export function ConversationsPage() {
  const { t } = useTranslation('admin');
  const { tenantId, conversationId } = useParams();
  const [params] = useSearchParams();
  if (tenantId && conversationId) return <OneConversation tenantId={tenantId} conversationId={conversationId} />;
  const shop = params.get('shop');
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  return (
    <Stack gap="4">
      <PageHeader title={t('conversations.title')} description={t('conversations.description')} />
      <AuditNotice />
      <ShopPicker value={shop} />
      {shop ? (
        <ConversationList tenantId={shop} page={page} />
      ) : (
        <Box borderWidth="1px" rounded="lg" bg="bg">
          <EmptyState icon={<LuMessagesSquare />} title={t('conversations.pickTitle')} description={t('conversations.pick')} headingLevel="p" />
        </Box>
      )}
    </Stack>
  );
}

export { ConversationsPage as Component };
