// The wizard's profile step: the profile form with its YAML shown beside it, saved with
// "Save and continue".
import { Box, Button, Code, Flex, Grid, Heading, Stack, Text } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { isApiError } from '@/lib/api-client';
import { useProfile, useSaveProfile } from '@/features/profile/api/profile';
import { ProfileFormFields, unplacedProblems } from '@/features/profile/components/profile-form';
import { formToProfile, profileToForm, profileToYaml, type ProfileForm } from '@/features/profile/lib/profile-yaml';

export function ProfileStep({ onSaved }: { onSaved: () => void }) {
  const { t } = useTranslation('onboarding');
  const profile = useProfile();
  const save = useSaveProfile();
  const [form, setForm] = useState<ProfileForm | null>(null);

  useEffect(() => {
    if (profile.data && form === null) setForm(profileToForm(profile.data.profile));
  }, [profile.data, form]);

  if (profile.isError) return <ErrorAlert error={profile.error} onRetry={() => void profile.refetch()} />;
  if (!form) return <LoadingSkeleton rows={5} />;

  const problems = isApiError(save.error) ? save.error.problems : [];
  const yaml = profileToYaml(formToProfile(form));

  return (
    <Stack gap="5">
      <Grid templateColumns={{ base: '1fr', xl: '3fr 2fr' }} gap="6" alignItems="start">
        <ProfileFormFields value={form} onChange={setForm} problems={problems} />
        <Box position={{ xl: 'sticky' }} top="4">
          <Heading as="h3" size="sm" mb="2" id="profile-yaml-heading">
            {t('profile.yaml')}
          </Heading>
          <Code
            as="pre"
            display="block"
            dir="ltr"
            textAlign="left"
            whiteSpace="pre-wrap"
            unicodeBidi="plaintext"
            p="3"
            w="full"
            maxH="lg"
            overflow="auto"
            aria-labelledby="profile-yaml-heading"
            tabIndex={0}
            data-testid="profile-yaml-preview"
          >
            {yaml}
          </Code>
        </Box>
      </Grid>
      {save.isError && (problems.length === 0 || unplacedProblems(problems).length > 0) && (
        <ErrorAlert error={save.error} title={t('profile.notSaved')} />
      )}
      {save.isError && problems.length > 0 && unplacedProblems(problems).length === 0 && (
        <Text color="fg.error" role="alert">
          {t('profile.fixFields')}
        </Text>
      )}
      <Flex justify="flex-end">
        <Button
          colorPalette="blue"
          loading={save.isPending}
          onClick={() => save.mutate({ profile: formToProfile(form) }, { onSuccess: onSaved })}
        >
          {t('profile.save')}
        </Button>
      </Flex>
    </Stack>
  );
}
