// CSV import: drop a file → the API's preview (per-row errors, the detected column mapping,
// what will be created/updated) → change the mapping if needed → commit. When rows have
// problems the merchant chooses: import the valid rows (the rejected ones come back as a CSV
// to fix), or nothing until the file is fixed. The same flow is used by the catalog tab and
// by the onboarding wizard.
import {
  Alert,
  Badge,
  Box,
  Button,
  Checkbox,
  Flex,
  Heading,
  NativeSelect,
  RadioGroup,
  Stack,
  Table,
  Text,
} from '@chakra-ui/react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '@/components/error-alert';
import { FileDropZone } from '@/components/file-drop-zone';
import { Money } from '@/components/money';
import { formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import {
  useCommitImport,
  usePreviewImport,
  type CommitReport,
  type ImportMode,
  type ImportPreview,
} from '@/features/catalog/api/catalog';
import {
  assignColumn,
  CATALOG_FIELDS,
  mappingFromColumns,
  mappingParam,
  missingFields,
  type CatalogField,
  type ColumnMapping,
  type DetectedColumn,
} from '@/features/catalog/lib/csv-mapping';

const MAX_CSV_BYTES = 10 * 1024 * 1024;
const ATTRIBUTE = '';

export function CsvImport({ onCommitted }: { onCommitted?: (report: CommitReport) => void }) {
  const { t } = useTranslation('catalog');
  const language = useLanguage();
  const [file, setFile] = useState<File | null>(null);
  const [detected, setDetected] = useState<DetectedColumn[] | null>(null);
  const [mapping, setMapping] = useState<ColumnMapping | null>(null);
  const [createMissing, setCreateMissing] = useState(true);
  const [mode, setMode] = useState<ImportMode>('valid_rows');
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [report, setReport] = useState<CommitReport | null>(null);
  const [rejected, setRejected] = useState<string | null>(null);
  const previewing = usePreviewImport();
  const committing = useCommitImport();

  const runPreview = (next: { file: File; mapping: ColumnMapping | null; columns: DetectedColumn[] | null; createMissing: boolean }) => {
    committing.reset();
    previewing.mutate(
      {
        file: next.file,
        mapping: mappingParam(next.mapping, next.columns),
        createMissingCategories: next.createMissing,
      },
      {
        onSuccess: (answer) => {
          setPreview(answer);
          if (!next.columns) {
            setDetected(answer.columns);
            setMapping(mappingFromColumns(answer.columns));
          }
        },
      },
    );
  };

  const onFile = (dropped: File) => {
    setRejected(null);
    setReport(null);
    setFile(dropped);
    setDetected(null);
    setMapping(null);
    setPreview(null);
    runPreview({ file: dropped, mapping: null, columns: null, createMissing });
  };

  const changeColumn = (header: string, value: string) => {
    if (!file || !mapping) return;
    const next = assignColumn(mapping, header, value === ATTRIBUTE ? null : (value as CatalogField));
    setMapping(next);
    runPreview({ file, mapping: next, columns: detected, createMissing });
  };

  const changeCreateMissing = (value: boolean) => {
    setCreateMissing(value);
    if (file) runPreview({ file, mapping, columns: detected, createMissing: value });
  };

  const commit = () => {
    if (!file) return;
    committing.mutate(
      { file, mapping: mappingParam(mapping, detected), createMissingCategories: createMissing, mode },
      {
        onSuccess: (answer) => {
          setReport(answer);
          setFile(null);
          setPreview(null);
          setDetected(null);
          setMapping(null);
          onCommitted?.(answer);
        },
      },
    );
  };

  const missing = mapping ? missingFields(mapping) : [];
  const hasErrors = (preview?.errors.length ?? 0) > 0;
  const blocked =
    !preview || preview.valid_rows === 0 || missing.length > 0 || (hasErrors && mode === 'all_or_nothing');

  const downloadRejected = (csv: string) => {
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'rejected-rows.csv';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  };

  return (
    <Stack gap="5">
      <FileDropZone
        label={t('import.drop')}
        hint={file ? t('import.chosen', { name: file.name }) : t('import.dropHint')}
        accept={{ 'text/csv': ['.csv'], 'text/plain': ['.csv', '.txt'], 'application/vnd.ms-excel': ['.csv'] }}
        maxSize={MAX_CSV_BYTES}
        onFiles={(files) => files[0] && onFile(files[0])}
        onRejected={(rejections) =>
          setRejected(
            rejections[0]?.errors[0]?.code === 'file-too-large' ? t('import.tooLarge') : t('import.notCsv'),
          )
        }
        testId="catalog-csv-drop"
      />
      {rejected && (
        <Text color="fg.error" role="alert">
          {rejected}
        </Text>
      )}
      {report && (
        <Alert.Root status="success" role="status">
          <Alert.Indicator />
          <Alert.Content>
            <Alert.Title>{t('import.done')}</Alert.Title>
            <Alert.Description>{t('import.report', report)}</Alert.Description>
          </Alert.Content>
        </Alert.Root>
      )}
      {report && report.rejected.length > 0 && (
        <Alert.Root status="warning" data-testid="csv-rejected">
          <Alert.Indicator />
          <Alert.Content gap="2">
            <Alert.Description>
              {t('import.rejectedCount', {
                n: formatNumber(new Set(report.rejected.map((r) => r.row)).size, language),
              })}
            </Alert.Description>
            {report.rejected_csv && (
              <Box>
                <Button size="sm" variant="outline" onClick={() => downloadRejected(report.rejected_csv!)}>
                  {t('import.downloadRejected')}
                </Button>
              </Box>
            )}
          </Alert.Content>
        </Alert.Root>
      )}
      {previewing.isPending && <Text role="status">{t('import.reading')}</Text>}
      {previewing.isError && <ErrorAlert error={previewing.error} title={t('import.previewFailed')} />}

      {preview && mapping && (
        <Stack gap="5">
          <Flex gap="2" wrap="wrap" role="status" aria-label={t('import.summaryLabel')}>
            <Badge size="lg">{t('import.rows', { count: preview.total_rows, n: formatNumber(preview.total_rows, language) })}</Badge>
            <Badge size="lg" colorPalette="green">{t('import.valid', { n: formatNumber(preview.valid_rows, language) })}</Badge>
            <Badge size="lg" colorPalette="blue">{t('import.toCreate', { n: formatNumber(preview.to_create, language) })}</Badge>
            <Badge size="lg" colorPalette="purple">{t('import.toUpdate', { n: formatNumber(preview.to_update, language) })}</Badge>
            {preview.errors.length > 0 && (
              <Badge size="lg" colorPalette="red">{t('import.errorCount', { n: formatNumber(preview.errors.length, language) })}</Badge>
            )}
          </Flex>

          <Box>
            <Heading as="h3" size="md" mb="2" id="csv-mapping-heading">
              {t('import.mapping')}
            </Heading>
            <Text textStyle="sm" color="fg.muted" mb="3">
              {t('import.mappingHint')}
            </Text>
            <Table.ScrollArea borderWidth="1px" rounded="md">
              <Table.Root size="sm" aria-labelledby="csv-mapping-heading">
                <Table.Header>
                  <Table.Row>
                    <Table.ColumnHeader>{t('import.header')}</Table.ColumnHeader>
                    <Table.ColumnHeader>{t('import.field')}</Table.ColumnHeader>
                  </Table.Row>
                </Table.Header>
                <Table.Body>
                  {Object.entries(mapping).map(([header, field]) => (
                    <Table.Row key={header}>
                      <Table.Cell fontWeight="medium">{header}</Table.Cell>
                      <Table.Cell minW="48">
                        <NativeSelect.Root size="sm">
                          <NativeSelect.Field
                            aria-label={t('import.fieldFor', { header })}
                            value={field ?? ATTRIBUTE}
                            onChange={(event) => changeColumn(header, event.target.value)}
                          >
                            <option value={ATTRIBUTE}>{t('import.asAttribute')}</option>
                            {CATALOG_FIELDS.filter((f) => f !== 'attributes').map((f) => (
                              <option key={f} value={f}>
                                {t(`fields.${f}`)}
                              </option>
                            ))}
                          </NativeSelect.Field>
                          <NativeSelect.Indicator />
                        </NativeSelect.Root>
                      </Table.Cell>
                    </Table.Row>
                  ))}
                </Table.Body>
              </Table.Root>
            </Table.ScrollArea>
            {missing.length > 0 && (
              <Text color="fg.error" role="alert" mt="2">
                {t('import.missing', { fields: missing.map((f) => t(`fields.${f}`)).join('، ') })}
              </Text>
            )}
          </Box>

          {preview.errors.length > 0 && (
            <Box>
              <Heading as="h3" size="md" mb="2" id="csv-errors-heading" color="fg.error">
                {t('import.errors')}
              </Heading>
              <Table.ScrollArea borderWidth="1px" rounded="md" maxH="72">
                <Table.Root size="sm" aria-labelledby="csv-errors-heading" data-testid="csv-row-errors">
                  <Table.Header>
                    <Table.Row>
                      <Table.ColumnHeader>{t('import.row')}</Table.ColumnHeader>
                      <Table.ColumnHeader>{t('import.column')}</Table.ColumnHeader>
                      <Table.ColumnHeader>{t('import.reason')}</Table.ColumnHeader>
                    </Table.Row>
                  </Table.Header>
                  <Table.Body>
                    {preview.errors.map((error, index) => (
                      <Table.Row key={`${error.row}-${index}`}>
                        <Table.Cell>{formatNumber(error.row, language)}</Table.Cell>
                        <Table.Cell>{error.column ?? '—'}</Table.Cell>
                        <Table.Cell>{error.reason}</Table.Cell>
                      </Table.Row>
                    ))}
                  </Table.Body>
                </Table.Root>
              </Table.ScrollArea>
            </Box>
          )}

          {preview.unknown_categories.length > 0 && (
            <Stack gap="2">
              <Text>{t('import.unknownCategories', { names: preview.unknown_categories.join('، ') })}</Text>
              <Checkbox.Root checked={createMissing} onCheckedChange={(e) => changeCreateMissing(e.checked === true)}>
                <Checkbox.HiddenInput />
                <Checkbox.Control />
                <Checkbox.Label>{t('import.createMissing')}</Checkbox.Label>
              </Checkbox.Root>
            </Stack>
          )}

          {preview.sample.length > 0 && (
            <Box>
              <Heading as="h3" size="md" mb="2" id="csv-sample-heading">
                {t('import.sample')}
              </Heading>
              <Table.ScrollArea borderWidth="1px" rounded="md">
                <Table.Root size="sm" aria-labelledby="csv-sample-heading">
                  <Table.Header>
                    <Table.Row>
                      <Table.ColumnHeader>{t('import.row')}</Table.ColumnHeader>
                      <Table.ColumnHeader>{t('fields.sku')}</Table.ColumnHeader>
                      <Table.ColumnHeader>{t('fields.name')}</Table.ColumnHeader>
                      <Table.ColumnHeader>{t('fields.category')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('fields.price')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('fields.stock')}</Table.ColumnHeader>
                    </Table.Row>
                  </Table.Header>
                  <Table.Body>
                    {preview.sample.map((row) => (
                      <Table.Row key={row.row}>
                        <Table.Cell>{formatNumber(row.row, language)}</Table.Cell>
                        <Table.Cell dir="ltr" textAlign="start">{row.sku}</Table.Cell>
                        <Table.Cell>{row.name}</Table.Cell>
                        <Table.Cell>{row.category ?? '—'}</Table.Cell>
                        <Table.Cell textAlign="end"><Money jod={row.price_jod} /></Table.Cell>
                        <Table.Cell textAlign="end">{formatNumber(row.stock, language)}</Table.Cell>
                      </Table.Row>
                    ))}
                  </Table.Body>
                </Table.Root>
              </Table.ScrollArea>
            </Box>
          )}

          {committing.isError && <ErrorAlert error={committing.error} title={t('import.commitFailed')} />}
          {hasErrors && preview.valid_rows > 0 && (
            <RadioGroup.Root
              value={mode}
              onValueChange={(e) => e.value && setMode(e.value as ImportMode)}
              aria-labelledby="csv-mode-question"
            >
              <Text id="csv-mode-question" fontWeight="medium" mb="2">
                {t('import.modeQuestion')}
              </Text>
              <Stack gap="2">
                <RadioGroup.Item value="valid_rows">
                  <RadioGroup.ItemHiddenInput />
                  <RadioGroup.ItemIndicator />
                  <RadioGroup.ItemText>
                    {t('import.modeValidRows', { n: formatNumber(preview.valid_rows, language) })}
                  </RadioGroup.ItemText>
                </RadioGroup.Item>
                <RadioGroup.Item value="all_or_nothing">
                  <RadioGroup.ItemHiddenInput />
                  <RadioGroup.ItemIndicator />
                  <RadioGroup.ItemText>{t('import.modeAllOrNothing')}</RadioGroup.ItemText>
                </RadioGroup.Item>
              </Stack>
            </RadioGroup.Root>
          )}
          <Stack gap="2" align="flex-start">
            <Button colorPalette="blue" onClick={commit} loading={committing.isPending} disabled={blocked || previewing.isPending}>
              {t('import.commit', { n: formatNumber(preview.valid_rows, language) })}
            </Button>
            {hasErrors && (mode === 'all_or_nothing' || preview.valid_rows === 0) && (
              <Text textStyle="sm" color="fg.muted">
                {t('import.allOrNothing')}
              </Text>
            )}
          </Stack>
        </Stack>
      )}
    </Stack>
  );
}
