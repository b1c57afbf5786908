// The business profile tab: the same profile as a form or as YAML. Switching keeps the
// changes; saving sends what is on screen; the API's refusal is shown at the field (form) or
// at the line (YAML).
import { Alert, Box, Button, Flex, Stack, Tabs, Text } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { DateTime } from '@/components/date-time';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import { toaster } from '@/components/toaster';
import { isApiError, type Problem } from '@/lib/api-client';
import { useProfile, useSaveProfile } from '@/features/profile/api/profile';
import { ProfileFormFields, unplacedProblems } from '@/features/profile/components/profile-form';
import { YamlEditor } from '@/features/profile/components/yaml-editor';
import {
  formToProfile,
  lineOfField,
  profileToForm,
  profileToYaml,
  yamlToProfile,
  type ProfileForm,
} from '@/features/profile/lib/profile-yaml';

type Mode = 'form' | 'yaml';

export function ProfilePage() {
  const { t } = useTranslation('profile');
  const profile = useProfile();
  const save = useSaveProfile();
  const [mode, setMode] = useState<Mode>('form');
  const [form, setForm] = useState<ProfileForm | null>(null);
  const [yamlText, setYamlText] = useState('');
  const [formDirty, setFormDirty] = useState(false);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [yamlProblem, setYamlProblem] = useState<{ line: number; message: string } | null>(null);

  useEffect(() => {
    if (profile.data && form === null) {
      setForm(profileToForm(profile.data.profile));
      setYamlText(profile.data.yaml);
    }
  }, [profile.data, form]);

  if (profile.isPending) return <LoadingSkeleton rows={6} />;
  if (profile.isError) return <ErrorAlert error={profile.error} onRetry={() => void profile.refetch()} />;
  if (!form) return <LoadingSkeleton rows={6} />;

  const lineMessage = (line: number, message: string) => t('lineProblem', { line, message });

  const switchTo = (next: Mode) => {
    if (next === mode) return;
    if (next === 'yaml') {
      if (formDirty) setYamlText(profileToYaml(formToProfile(form)));
      setFormDirty(false);
      setYamlProblem(null);
      setMode('yaml');
      return;
    }
    const parsed = yamlToProfile(yamlText);
    if ('problem' in parsed) {
      setYamlProblem({ line: parsed.problem.line, message: lineMessage(parsed.problem.line, parsed.problem.message) });
      toaster.create({ type: 'error', description: t('fixYamlFirst') });
      return;
    }
    setForm(profileToForm(parsed.profile));
    setFormDirty(false);
    setYamlProblem(null);
    setMode('form');
  };

  const onSave = () => {
    setProblems([]);
    setYamlProblem(null);
    save.mutate(mode === 'form' ? { profile: formToProfile(form) } : { yaml: yamlText }, {
      onSuccess: (answer) => {
        setForm(profileToForm(answer.profile));
        setYamlText(answer.yaml);
        setFormDirty(false);
        toaster.create({ type: 'success', description: t('saved') });
      },
      onError: (error) => {
        const found = isApiError(error) ? error.problems : [];
        setProblems(found);
        if (mode === 'yaml') {
          const first = found[0];
          const line = first ? lineOfField(yamlText, first.field) : null;
          if (first && line) {
            const message = first.field.startsWith('line ') ? first.message : `${first.field}: ${first.message}`;
            setYamlProblem({ line, message: lineMessage(line, message) });
          }
        }
      },
    });
  };

  const refusal = save.isError && (mode === 'form' ? unplacedProblems(problems).length > 0 || problems.length === 0 : !yamlProblem);

  return (
    <Stack gap="6">
      <PageHeader
        title={t('title')}
        description={t('description')}
        actions={
          <Button colorPalette="blue" onClick={onSave} loading={save.isPending}>
            {t('save')}
          </Button>
        }
      />
      {profile.data.is_template && (
        <Alert.Root status="info">
          <Alert.Indicator />
          <Alert.Content>
            <Alert.Title>{t('template.title')}</Alert.Title>
            <Alert.Description>{t('template.body')}</Alert.Description>
          </Alert.Content>
        </Alert.Root>
      )}
      {refusal && <ErrorAlert error={save.error} title={t('notSaved')} />}
      {save.isError && problems.length > 0 && mode === 'form' && unplacedProblems(problems).length === 0 && (
        <Text color="fg.error" role="alert">
          {t('fixFields')}
        </Text>
      )}
      <Tabs.Root value={mode} onValueChange={(e) => switchTo(e.value as Mode)} variant="enclosed">
        <Tabs.List>
          <Tabs.Trigger value="form">{t('modes.form')}</Tabs.Trigger>
          <Tabs.Trigger value="yaml">{t('modes.yaml')}</Tabs.Trigger>
        </Tabs.List>
        <Box pt="5">
          <Tabs.Content value="form">
            <ProfileFormFields
              value={form}
              onChange={(next) => {
                setForm(next);
                setFormDirty(true);
              }}
              problems={problems}
            />
          </Tabs.Content>
          <Tabs.Content value="yaml">
            <Stack gap="2">
              <Text textStyle="sm" color="fg.muted">
                {t('yamlHint')}
              </Text>
              <YamlEditor value={yamlText} onChange={setYamlText} label={t('yamlLabel')} problem={yamlProblem} />
            </Stack>
          </Tabs.Content>
        </Box>
      </Tabs.Root>
      <Flex justify="space-between" align="center" gap="4" wrap="wrap">
        <Text textStyle="sm" color="fg.muted">
          {profile.data.updated_at ? (
            <>
              {t('updated')} <DateTime value={profile.data.updated_at} relative />
            </>
          ) : (
            t('neverSaved')
          )}
        </Text>
        <Button colorPalette="blue" onClick={onSave} loading={save.isPending}>
          {t('save')}
        </Button>
      </Flex>
    </Stack>
  );
}

export { ProfilePage as Component };
