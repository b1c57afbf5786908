// The AI's free-text instructions: what to stress, what never to say.
import { Button, Card, Field, Flex, Text, Textarea } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { DateTime } from '@/components/date-time';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { toaster } from '@/components/toaster';
import { isApiError } from '@/lib/api-client';
import { useInstructions, useSaveInstructions } from '@/features/instructions/api/instructions';

export function InstructionsCard() {
  const { t } = useTranslation('instructions');
  const instructions = useInstructions();
  const save = useSaveInstructions();
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    if (instructions.data && text === null) setText(instructions.data.instructions);
  }, [instructions.data, text]);
  const fieldError = isApiError(save.error) ? save.error.problemFor('instructions') : undefined;

  return (
    <Card.Root variant="outline">
      <Card.Header>
        <Card.Title as="h2">{t('instructions.title')}</Card.Title>
        <Card.Description>{t('instructions.description')}</Card.Description>
      </Card.Header>
      <Card.Body>
        {instructions.isPending || text === null ? (
          instructions.isError ? <ErrorAlert error={instructions.error} onRetry={() => void instructions.refetch()} /> : <LoadingSkeleton rows={2} />
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate({ body: { instructions: text } }, { onSuccess: () => toaster.create({ type: 'success', description: t('instructions.saved') }) });
            }}
          >
            <Field.Root invalid={Boolean(fieldError)}>
              <Field.Label>{t('instructions.label')}</Field.Label>
              <Textarea value={text} onChange={(e) => setText(e.target.value)} rows={8} dir="auto" placeholder={t('instructions.placeholder')} />
              {fieldError ? <Field.ErrorText>{fieldError}</Field.ErrorText> : <Field.HelperText>{t('instructions.hint')}</Field.HelperText>}
            </Field.Root>
            {save.isError && !fieldError && <ErrorAlert error={save.error} title={t('notSaved')} />}
            <Flex justify="space-between" align="center" mt="4" gap="3" wrap="wrap">
              <Text textStyle="xs" color="fg.muted">
                {instructions.data?.updated_at ? <>{t("updated")} <DateTime value={instructions.data.updated_at} relative /></> : t("neverSaved")}
              </Text>
              <Button type="submit" colorPalette="blue" loading={save.isPending}>
                {t('instructions.save')}
              </Button>
            </Flex>
          </form>
        )}
      </Card.Body>
    </Card.Root>
  );
}
