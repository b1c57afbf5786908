// Business rules: delivery zones and fees, minimum order, working hours, the out-of-hours
// message and when to hand a conversation to a person. Each field shows the API's message.
import { Button, Card, Checkbox, Field, Fieldset, Flex, IconButton, Input, SimpleGrid, Stack, Text, Textarea } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuPlus, LuTrash2 } from 'react-icons/lu';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { toaster } from '@/components/toaster';
import { isApiError, type Problem } from '@/lib/api-client';
import { useBusinessRules, useSaveBusinessRules } from '@/features/instructions/api/instructions';
import { DAYS, formToRules, newZone, rulesToForm, zoneField, type RulesForm } from '@/features/instructions/lib/rules-form';

const at = (problems: Problem[], field: string) => problems.find((p) => p.field === field)?.message;

export function RulesCard() {
  const { t } = useTranslation('instructions');
  const rules = useBusinessRules();
  const save = useSaveBusinessRules();
  const [form, setForm] = useState<RulesForm | null>(null);
  useEffect(() => {
    if (rules.data && form === null) setForm(rulesToForm(rules.data));
  }, [rules.data, form]);

  if (rules.isError) return <ErrorAlert error={rules.error} onRetry={() => void rules.refetch()} />;
  if (!form) return <LoadingSkeleton rows={4} />;
  const problems = isApiError(save.error) ? save.error.problems : [];
  const set = (patch: Partial<RulesForm>) => setForm({ ...form, ...patch });

  return (
    <Card.Root variant="outline">
      <Card.Header>
        <Card.Title as="h2">{t('rules.title')}</Card.Title>
        <Card.Description>{t('rules.description')}</Card.Description>
      </Card.Header>
      <Card.Body>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate({ body: formToRules(form) }, { onSuccess: () => toaster.create({ type: 'success', description: t('rules.saved') }) });
          }}
          noValidate
        >
          <Stack gap="6">
            <Fieldset.Root>
              <Fieldset.Legend>{t('rules.zones')}</Fieldset.Legend>
              <Fieldset.HelperText>{t('rules.zonesHint')}</Fieldset.HelperText>
              <Fieldset.Content>
                <Stack gap="3">
                  {form.zones.length === 0 && <Text color="fg.muted" textStyle="sm">{t('rules.noZones')}</Text>}
                  {form.zones.map((zone, i) => {
                    const update = (patch: Partial<typeof zone>) =>
                      set({ zones: form.zones.map((z) => (z.key === zone.key ? { ...z, ...patch } : z)) });
                    return (
                      <Flex key={zone.key} gap="2" align="flex-start" wrap={{ base: 'wrap', md: 'nowrap' }} data-testid="delivery-zone">
                        <Field.Root invalid={Boolean(at(problems, zoneField(i, 'city')))} flex="2" minW="40">
                          <Field.Label>{t('rules.city', { n: i + 1 })}</Field.Label>
                          <Input value={zone.city} onChange={(e) => update({ city: e.target.value })} dir="auto" />
                          <Field.ErrorText>{at(problems, zoneField(i, 'city'))}</Field.ErrorText>
                        </Field.Root>
                        <Field.Root invalid={Boolean(at(problems, zoneField(i, 'fee_jod')))} flex="1" minW="28">
                          <Field.Label>{t('rules.fee')}</Field.Label>
                          <Input value={zone.fee_jod} onChange={(e) => update({ fee_jod: e.target.value })} inputMode="decimal" dir="ltr" placeholder="2.000" />
                          <Field.ErrorText>{at(problems, zoneField(i, 'fee_jod'))}</Field.ErrorText>
                        </Field.Root>
                        <Field.Root invalid={Boolean(at(problems, zoneField(i, 'delivery_days')))} flex="1" minW="24">
                          <Field.Label>{t('rules.days')}</Field.Label>
                          <Input value={zone.delivery_days} onChange={(e) => update({ delivery_days: e.target.value })} inputMode="numeric" dir="ltr" />
                          <Field.ErrorText>{at(problems, zoneField(i, 'delivery_days'))}</Field.ErrorText>
                        </Field.Root>
                        <Field.Root invalid={Boolean(at(problems, zoneField(i, 'aliases')))} flex="2" minW="40">
                          <Field.Label>{t('rules.aliases')}</Field.Label>
                          <Input value={zone.aliases} onChange={(e) => update({ aliases: e.target.value })} dir="auto" placeholder={t('rules.aliasesPlaceholder')} />
                          <Field.ErrorText>{at(problems, zoneField(i, 'aliases'))}</Field.ErrorText>
                        </Field.Root>
                        <IconButton
                          mt="6"
                          variant="ghost"
                          colorPalette="red"
                          aria-label={t('rules.removeZone', { city: zone.city || i + 1 })}
                          onClick={() => set({ zones: form.zones.filter((z) => z.key !== zone.key) })}
                        >
                          <LuTrash2 />
                        </IconButton>
                      </Flex>
                    );
                  })}
                  <Button alignSelf="flex-start" size="sm" variant="outline" onClick={() => set({ zones: [...form.zones, newZone()] })}>
                    <LuPlus aria-hidden /> {t('rules.addZone')}
                  </Button>
                </Stack>
              </Fieldset.Content>
            </Fieldset.Root>

            <Field.Root invalid={Boolean(at(problems, 'minimum_order_jod'))} maxW="xs">
              <Field.Label>{t('rules.minimum')}</Field.Label>
              <Input value={form.minimum_order_jod} onChange={(e) => set({ minimum_order_jod: e.target.value })} inputMode="decimal" dir="ltr" placeholder="0.000" />
              {at(problems, 'minimum_order_jod') ? <Field.ErrorText>{at(problems, 'minimum_order_jod')}</Field.ErrorText> : <Field.HelperText>{t('rules.minimumHint')}</Field.HelperText>}
            </Field.Root>

            <Fieldset.Root>
              <Fieldset.Legend>{t('rules.hours')}</Fieldset.Legend>
              <Fieldset.HelperText>{t('rules.hoursHint')}</Fieldset.HelperText>
              <Fieldset.Content>
                <SimpleGrid columns={{ base: 1, sm: 2, lg: 4 }} gap="3">
                  {DAYS.map((day) => (
                    <Field.Root key={day} invalid={Boolean(at(problems, `working_hours.${day}`))}>
                      <Field.Label>{t(`days.${day}`)}</Field.Label>
                      <Input
                        value={form.working_hours[day]}
                        onChange={(e) => set({ working_hours: { ...form.working_hours, [day]: e.target.value } })}
                        dir="ltr"
                        placeholder="10:00-22:00"
                      />
                      <Field.ErrorText>{at(problems, `working_hours.${day}`)}</Field.ErrorText>
                    </Field.Root>
                  ))}
                </SimpleGrid>
              </Fieldset.Content>
            </Fieldset.Root>

            <Field.Root invalid={Boolean(at(problems, 'out_of_hours_message'))}>
              <Field.Label>{t('rules.outOfHours')}</Field.Label>
              <Textarea value={form.out_of_hours_message} onChange={(e) => set({ out_of_hours_message: e.target.value })} rows={2} dir="auto" />
              {at(problems, 'out_of_hours_message') ? <Field.ErrorText>{at(problems, 'out_of_hours_message')}</Field.ErrorText> : <Field.HelperText>{t('rules.outOfHoursHint')}</Field.HelperText>}
            </Field.Root>

            <Fieldset.Root>
              <Fieldset.Legend>{t('rules.handoff')}</Fieldset.Legend>
              <Fieldset.Content>
                <Stack gap="3">
                  <Checkbox.Root checked={form.on_request} onCheckedChange={(e) => set({ on_request: e.checked === true })}>
                    <Checkbox.HiddenInput />
                    <Checkbox.Control />
                    <Checkbox.Label>{t('rules.onRequest')}</Checkbox.Label>
                  </Checkbox.Root>
                  <Checkbox.Root checked={form.on_complaint} onCheckedChange={(e) => set({ on_complaint: e.checked === true })}>
                    <Checkbox.HiddenInput />
                    <Checkbox.Control />
                    <Checkbox.Label>{t('rules.onComplaint')}</Checkbox.Label>
                  </Checkbox.Root>
                  <Field.Root invalid={Boolean(problems.find((p) => p.field.startsWith('handoff.keywords')))}>
                    <Field.Label>{t('rules.keywords')}</Field.Label>
                    <Textarea value={form.keywords} onChange={(e) => set({ keywords: e.target.value })} rows={2} dir="auto" />
                    <Field.ErrorText>{problems.find((p) => p.field.startsWith('handoff.keywords'))?.message}</Field.ErrorText>
                    <Field.HelperText>{t('rules.keywordsHint')}</Field.HelperText>
                  </Field.Root>
                </Stack>
              </Fieldset.Content>
            </Fieldset.Root>

            {save.isError && <ErrorAlert error={save.error} title={t('notSaved')} />}
            <Flex justify="flex-end">
              <Button type="submit" colorPalette="blue" loading={save.isPending}>
                {t('rules.save')}
              </Button>
            </Flex>
          </Stack>
        </form>
      </Card.Body>
    </Card.Root>
  );
}
