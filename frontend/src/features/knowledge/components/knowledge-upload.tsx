// Adding to the knowledge base: drop files (PDF, DOCX, TXT, MD up to 20 MB; the API's own
// refusal is shown on the file's line) or give a page's URL. Used by the tab and the wizard.
import { Button, Field, Flex, Input, List, Stack, Text } from '@chakra-ui/react';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { LuCircleAlert, LuCircleCheck, LuLoader } from 'react-icons/lu';
import { FileDropZone } from '@/components/file-drop-zone';
import { errorMessage, isApiError } from '@/lib/api-client';
import { useAddUrl, useUploadDocument } from '@/features/knowledge/api/knowledge';

type Sent = { key: string; name: string; state: 'sending' | 'sent' | 'refused'; message?: string };

export function KnowledgeUpload() {
  const { t } = useTranslation('knowledge');
  const upload = useUploadDocument();
  const addUrl = useAddUrl();
  const [sent, setSent] = useState<Sent[]>([]);
  const [url, setUrl] = useState('');

  const update = (key: string, patch: Partial<Sent>) =>
    setSent((list) => list.map((s) => (s.key === key ? { ...s, ...patch } : s)));

  const onFiles = (files: File[]) => {
    for (const file of files) {
      const key = `${file.name}-${Date.now()}-${Math.random()}`;
      setSent((list) => [{ key, name: file.name, state: 'sending' }, ...list]);
      upload.mutate(file, {
        onSuccess: () => update(key, { state: 'sent' }),
        onError: (error) => update(key, { state: 'refused', message: errorMessage(error) }),
      });
    }
  };

  const submitUrl = (event: FormEvent) => {
    event.preventDefault();
    addUrl.mutate({ body: { url: url.trim() } }, { onSuccess: () => setUrl('') });
  };
  const urlError = addUrl.isError
    ? (isApiError(addUrl.error) && addUrl.error.problemFor('url')) || errorMessage(addUrl.error)
    : undefined;

  return (
    <Stack gap="5">
      <FileDropZone
        label={t('drop')}
        hint={t('dropHint')}
        multiple
        onFiles={onFiles}
        testId="knowledge-drop"
      />
      {sent.length > 0 && (
        <List.Root variant="plain" gap="1" aria-label={t('uploads')} aria-live="polite">
          {sent.map((s) => (
            <List.Item key={s.key} alignItems="flex-start">
              <List.Indicator asChild color={s.state === 'refused' ? 'fg.error' : s.state === 'sent' ? 'fg.success' : 'fg.muted'}>
                {s.state === 'refused' ? <LuCircleAlert /> : s.state === 'sent' ? <LuCircleCheck /> : <LuLoader />}
              </List.Indicator>
              <Text>
                <Text as="span" fontWeight="medium">{s.name}</Text>
                {' — '}
                <Text as="span" color={s.state === 'refused' ? 'fg.error' : undefined}>
                  {s.state === 'refused' ? s.message : t(s.state === 'sent' ? 'sent' : 'sending')}
                </Text>
              </Text>
            </List.Item>
          ))}
        </List.Root>
      )}
      <form onSubmit={submitUrl} noValidate>
        <Flex gap="3" align="flex-start" direction={{ base: 'column', sm: 'row' }}>
          <Field.Root invalid={Boolean(urlError)} flex="1">
            <Field.Label>{t('url')}</Field.Label>
            <Input
              type="url"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://"
              dir="ltr"
            />
            {urlError ? <Field.ErrorText>{urlError}</Field.ErrorText> : <Field.HelperText>{t('urlHint')}</Field.HelperText>}
          </Field.Root>
          <Button type="submit" mt={{ sm: '6' }} loading={addUrl.isPending} disabled={!url.trim()}>
            {t('addUrl')}
          </Button>
        </Flex>
      </form>
    </Stack>
  );
}
