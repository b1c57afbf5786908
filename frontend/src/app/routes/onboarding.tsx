// The onboarding wizard: Instagram → catalog CSV → knowledge base → business profile → finish.
// It composes the features' own pieces (CSV import, knowledge upload, profile form). Progress
// lives in the API (GET /api/v1/onboarding), so leaving and coming back resumes at the first
// step not done; `?step=` opens any step directly (the dashboard links here).
import { Alert, Badge, Box, Button, Container, Flex, Heading, HStack, Link, List, Stack, Text } from '@chakra-ui/react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link as RouterLink, useSearchParams } from 'react-router';
import { LuCircle, LuCircleCheck } from 'react-icons/lu';
import { ErrorAlert } from '@/components/error-alert';
import { LanguageSwitch } from '@/components/language-switch';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { INSTAGRAM_OAUTH_START, paths } from '@/config/paths';
import { $api } from '@/lib/api-client';
import { useMe } from '@/lib/auth';
import { formatDay } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import { CsvImport } from '@/features/catalog/components/csv-import';
import { DocumentList } from '@/features/knowledge/components/document-list';
import { KnowledgeUpload } from '@/features/knowledge/components/knowledge-upload';
import { ProfileStep } from '@/app/routes/onboarding/profile-step';

const STEPS = ['instagram', 'catalog', 'knowledge_base', 'profile', 'finish'] as const;
type Step = (typeof STEPS)[number];
const isStep = (value: string | null): value is Step => STEPS.includes(value as Step);

const TAB_OF: Partial<Record<Step, string>> = {
  catalog: paths.catalog.getHref(),
  knowledge_base: paths.knowledge.getHref(),
  profile: paths.profile.getHref(),
  instagram: paths.settings.getHref(),
};

/** The step last opened, so leaving and coming back lands where the merchant was. */
function readSaved(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
function writeSaved(key: string, step: Step) {
  try {
    localStorage.setItem(key, step);
  } catch {
    // not remembered: the API's progress still resumes at the first open step
  }
}

export function OnboardingPage() {
  const { t } = useTranslation('onboarding');
  const language = useLanguage();
  const [params, setParams] = useSearchParams();
  const qc = useQueryClient();
  const me = useMe();
  const progress = $api.useQuery('get', '/api/v1/onboarding');
  const finish = $api.useMutation('post', '/api/v1/onboarding/finish', {
    meta: { quiet: true },
    onSuccess: (answer) => {
      qc.setQueryData(['get', '/api/v1/onboarding'], answer);
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/me'] });
    },
  });

  if (progress.isPending) {
    return (
      <Container maxW="5xl" py="8">
        <LoadingSkeleton rows={5} />
      </Container>
    );
  }
  if (progress.isError) {
    return (
      <Container maxW="5xl" py="8">
        <ErrorAlert error={progress.error} onRetry={() => void progress.refetch()} />
      </Container>
    );
  }

  const answer = progress.data;
  const doneOf = (step: Step) =>
    step === 'finish' ? Boolean(answer.completed_at) : (answer.steps.find((s) => s.step === step)?.done ?? false);
  const optional = (step: Step) => answer.steps.find((s) => s.step === step)?.optional ?? false;
  const firstOpen = STEPS.find((step) => !doneOf(step)) ?? 'finish';
  const savedKey = `igshop.onboarding.step.${me.data?.tenant.id ?? ''}`;
  const requested = params.get('step');
  const saved = readSaved(savedKey);
  const current: Step = isStep(requested) ? requested : isStep(saved) && !answer.completed_at ? saved : firstOpen;
  const index = STEPS.indexOf(current);
  const go = (step: Step) => {
    writeSaved(savedKey, step);
    setParams({ step }, { replace: false });
  };
  const next = () => go(STEPS[Math.min(index + 1, STEPS.length - 1)]!);
  const refresh = () => void qc.invalidateQueries({ queryKey: ['get', '/api/v1/onboarding'] });

  const connection = me.data?.connection.status ?? 'not_connected';
  const licenceAlerts = (me.data?.alerts ?? []).filter((a) => a.kind.includes('licen'));

  return (
    <Box minH="100dvh" bg="bg.subtle">
      <Flex as="header" px={{ base: '4', md: '8' }} py="3" align="center" gap="3" bg="bg" borderBottomWidth="1px">
        <Text fontWeight="semibold" flex="1" truncate>
          {t('common:appName')} · {t('title')}
        </Text>
        <LanguageSwitch />
        <Button asChild size="sm" variant="outline">
          <RouterLink to={paths.overview.getHref()}>{t('toDashboard')}</RouterLink>
        </Button>
      </Flex>
      <Container maxW="6xl" py={{ base: '5', md: '8' }} as="main" id="main">
        <Stack gap="6">
          <Stack gap="1">
            <Heading as="h1" size="2xl">
              {t('title')}
            </Heading>
            <Text color="fg.muted">{t('description')}</Text>
          </Stack>

          <Box as="nav" aria-label={t('stepsLabel')}>
            <List.Root as="ol" display="flex" flexDirection="row" flexWrap="wrap" gap="2" listStyleType="none">
              {STEPS.map((step, i) => {
                const done = doneOf(step);
                return (
                  <List.Item key={step}>
                    <Button
                      size="sm"
                      variant={step === current ? 'solid' : 'outline'}
                      colorPalette={step === current ? 'blue' : done ? 'green' : 'gray'}
                      aria-current={step === current ? 'step' : undefined}
                      onClick={() => go(step)}
                      data-testid={`onboarding-step-${step}`}
                    >
                      {done ? <LuCircleCheck aria-hidden /> : <LuCircle aria-hidden />}
                      {i + 1}. {t(`steps.${step}.title`)}
                      <Text as="span" srOnly>
                        {done ? t('done') : t('notDone')}
                      </Text>
                    </Button>
                  </List.Item>
                );
              })}
            </List.Root>
          </Box>

          <Box as="section" bg="bg" borderWidth="1px" rounded="l3" p={{ base: '4', md: '6' }} aria-labelledby="step-heading">
            <Stack gap="5">
              <Stack gap="1">
                <HStack gap="2" wrap="wrap">
                  <Heading as="h2" size="lg" id="step-heading">
                    {t(`steps.${current}.title`)}
                  </Heading>
                  {optional(current) && <Badge>{t('optional')}</Badge>}
                  {doneOf(current) && <Badge colorPalette="green">{t('done')}</Badge>}
                </HStack>
                <Text color="fg.muted">{t(`steps.${current}.description`)}</Text>
              </Stack>

              {current === 'instagram' && (
                <Stack gap="3" align="flex-start">
                  <Text>
                    {t(`instagram.${connection}`, { defaultValue: t('instagram.not_connected'), handle: me.data?.tenant.ig_handle ?? '' })}
                  </Text>
                  {(connection === 'not_connected' || connection === 'reconnect_needed') && (
                    <Button asChild colorPalette="blue">
                      <a href={INSTAGRAM_OAUTH_START}>{t('instagram.connect')}</a>
                    </Button>
                  )}
                </Stack>
              )}
              {current === 'catalog' && <CsvImport onCommitted={refresh} />}
              {current === 'knowledge_base' && (
                <Stack gap="5">
                  <KnowledgeUpload />
                  <DocumentList compact />
                </Stack>
              )}
              {current === 'profile' && (
                <ProfileStep
                  onSaved={() => {
                    refresh();
                    go('finish');
                  }}
                />
              )}
              {current === 'finish' && (
                <Stack gap="4">
                  <List.Root gap="1" variant="plain">
                    {STEPS.filter((s) => s !== 'finish').map((step) => (
                      <List.Item key={step}>
                        <List.Indicator asChild color={doneOf(step) ? 'fg.success' : 'fg.muted'}>
                          {doneOf(step) ? <LuCircleCheck /> : <LuCircle />}
                        </List.Indicator>
                        {t(`steps.${step}.title`)} — {doneOf(step) ? t('done') : optional(step) ? t('skipped') : t('notDone')}
                      </List.Item>
                    ))}
                  </List.Root>
                  <Text>
                    {t('licence')}: <Badge>{t(`tenantStatus.${me.data?.tenant.status ?? 'active'}`, { defaultValue: me.data?.tenant.status })}</Badge>
                  </Text>
                  {me.data?.licence && (
                    <Text data-testid="onboarding-licence">
                      {t('licenceState.label')}:{' '}
                      <Badge colorPalette={me.data.licence.state === 'valid' ? 'green' : 'orange'}>
                        {t(`licenceState.${me.data.licence.state}`, { defaultValue: me.data.licence.state })}
                      </Badge>{' '}
                      {me.data.licence.expires_on &&
                        t('licenceState.until', { date: formatDay(me.data.licence.expires_on, language) })}
                    </Text>
                  )}
                  {licenceAlerts.map((a) => (
                    <Alert.Root key={a.created_at + a.kind} status="warning">
                      <Alert.Indicator />
                      <Alert.Description>{a.message}</Alert.Description>
                    </Alert.Root>
                  ))}
                  <Alert.Root status={answer.live ? 'success' : 'info'} role="status" data-testid="onboarding-live">
                    <Alert.Indicator />
                    <Alert.Content>
                      <Alert.Title>{answer.live ? t('live.yes') : t('live.no')}</Alert.Title>
                      <Alert.Description>{answer.live ? t('live.yesBody') : t('live.noBody')}</Alert.Description>
                    </Alert.Content>
                  </Alert.Root>
                  {finish.isError && <ErrorAlert error={finish.error} title={t('finishFailed')} />}
                  <HStack gap="3" wrap="wrap">
                    {!answer.completed_at && (
                      <Button colorPalette="blue" loading={finish.isPending} onClick={() => finish.mutate({})}>
                        {t('finish')}
                      </Button>
                    )}
                    <Button asChild variant={answer.completed_at ? 'solid' : 'outline'} colorPalette={answer.completed_at ? 'blue' : undefined}>
                      <RouterLink to={paths.overview.getHref()}>{t('toDashboard')}</RouterLink>
                    </Button>
                  </HStack>
                </Stack>
              )}

              {current !== 'finish' && (
                <Flex justify="space-between" gap="3" wrap="wrap" pt="2" borderTopWidth="1px">
                  <HStack gap="3">
                    {index > 0 && (
                      <Button variant="ghost" onClick={() => go(STEPS[index - 1]!)}>
                        {t('common:actions.back')}
                      </Button>
                    )}
                    {TAB_OF[current] && (
                      <Link asChild textStyle="sm" alignSelf="center">
                        <RouterLink to={TAB_OF[current]!}>{t('openTab')}</RouterLink>
                      </Link>
                    )}
                  </HStack>
                  {current !== 'profile' && (
                    <Button variant={doneOf(current) ? 'solid' : 'outline'} colorPalette={doneOf(current) ? 'blue' : undefined} onClick={next}>
                      {doneOf(current) ? t('next') : optional(current) ? t('skip') : t('later')}
                    </Button>
                  )}
                </Flex>
              )}
            </Stack>
          </Box>
        </Stack>
      </Container>
    </Box>
  );
}

export { OnboardingPage as Component };
