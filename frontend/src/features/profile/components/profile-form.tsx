// The business profile as a form. Each field shows the API's message for it (the API names
// fields like `returns.window_days` or `working_hours.friday`). Used by the tab and the wizard.
import { Field, Fieldset, Input, SimpleGrid, Stack, Textarea } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import type { Problem } from '@/lib/api-client';
import { DAYS, type ProfileForm } from '@/features/profile/lib/profile-yaml';

type TextKey = Exclude<keyof ProfileForm, 'working_hours'>;

/** Which API field path each form input answers for. */
const API_FIELD: Record<TextKey, string> = {
  shop_name: 'shop_name',
  intro: 'intro',
  instagram_handle: 'instagram_handle',
  brand_voice: 'brand_voice',
  delivery: 'delivery',
  returns_policy: 'returns.policy',
  returns_window_days: 'returns.window_days',
  offers: 'offers',
};

export function problemAt(problems: Problem[], path: string): string | undefined {
  return problems.find((p) => p.field === path || p.field.startsWith(`${path}.`))?.message;
}

/** Problems the form has no field for (shown above it). */
export function unplacedProblems(problems: Problem[]): Problem[] {
  const known = [...Object.values(API_FIELD), ...DAYS.map((d) => `working_hours.${d}`), 'working_hours'];
  return problems.filter((p) => !known.some((k) => p.field === k || p.field.startsWith(`${k}.`)));
}

export function ProfileFormFields({
  value,
  onChange,
  problems,
}: {
  value: ProfileForm;
  onChange: (next: ProfileForm) => void;
  problems: Problem[];
}) {
  const { t } = useTranslation('profile');
  const set = (key: TextKey) => (event: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
    onChange({ ...value, [key]: event.target.value });

  const text = (key: TextKey, options: { multiline?: boolean; required?: boolean; ltr?: boolean; numeric?: boolean } = {}) => {
    const error = problemAt(problems, API_FIELD[key]);
    return (
      <Field.Root key={key} invalid={Boolean(error)} required={options.required}>
        <Field.Label>
          {t(`fields.${key}`)}
          {options.required && <Field.RequiredIndicator />}
        </Field.Label>
        {options.multiline ? (
          <Textarea value={value[key]} onChange={set(key)} autoresize minH="20" dir="auto" />
        ) : (
          <Input
            value={value[key]}
            onChange={set(key)}
            dir={options.ltr ? 'ltr' : 'auto'}
            inputMode={options.numeric ? 'numeric' : undefined}
          />
        )}
        {error ? <Field.ErrorText>{error}</Field.ErrorText> : t(`hints.${key}`, { defaultValue: '' }) && <Field.HelperText>{t(`hints.${key}`)}</Field.HelperText>}
      </Field.Root>
    );
  };

  return (
    <Stack gap="5">
      <SimpleGrid columns={{ base: 1, md: 2 }} gap="4">
        {text('shop_name', { required: true })}
        {text('instagram_handle', { ltr: true })}
      </SimpleGrid>
      {text('intro', { multiline: true })}
      {text('brand_voice', { multiline: true })}
      {text('delivery', { multiline: true })}
      <SimpleGrid columns={{ base: 1, md: 3 }} gap="4">
        <Stack gridColumn={{ md: 'span 2' }}>{text('returns_policy', { multiline: true })}</Stack>
        {text('returns_window_days', { ltr: true, numeric: true })}
      </SimpleGrid>
      {text('offers', { multiline: true })}
      <Fieldset.Root>
        <Fieldset.Legend>{t('fields.working_hours')}</Fieldset.Legend>
        <Fieldset.HelperText>{t('hints.working_hours')}</Fieldset.HelperText>
        <Fieldset.Content>
          <SimpleGrid columns={{ base: 1, sm: 2, lg: 4 }} gap="3">
            {DAYS.map((day) => {
              const error = problemAt(problems, `working_hours.${day}`);
              return (
                <Field.Root key={day} invalid={Boolean(error)}>
                  <Field.Label>{t(`days.${day}`)}</Field.Label>
                  <Input
                    value={value.working_hours[day]}
                    placeholder="10:00-22:00"
                    dir="ltr"
                    onChange={(e) => onChange({ ...value, working_hours: { ...value.working_hours, [day]: e.target.value } })}
                  />
                  {error && <Field.ErrorText>{error}</Field.ErrorText>}
                </Field.Root>
              );
            })}
          </SimpleGrid>
        </Fieldset.Content>
      </Fieldset.Root>
    </Stack>
  );
}
