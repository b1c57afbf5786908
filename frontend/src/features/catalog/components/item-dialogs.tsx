// Adding one product, and changing several selected products at once (the bulk endpoint:
// all or nothing, its refusal shown in the dialog).
import { Button, CloseButton, Dialog, Field, Input, NativeSelect, Portal, SimpleGrid, Stack, Text } from '@chakra-ui/react';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '@/components/error-alert';
import { isApiError } from '@/lib/api-client';
import { useBulkChange, useCreateItem, type CatalogItem, type ItemPatch } from '@/features/catalog/api/catalog';

type Category = { id: string; name: string };

function DialogFrame({
  open,
  onOpenChange,
  title,
  children,
  footer,
  onSubmit,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  children: React.ReactNode;
  footer: React.ReactNode;
  onSubmit: (event: FormEvent) => void;
}) {
  const { t } = useTranslation();
  return (
    <Dialog.Root open={open} onOpenChange={(d) => onOpenChange(d.open)} size={{ base: 'full', md: 'md' }}>
      <Portal>
        <Dialog.Backdrop />
        <Dialog.Positioner>
          <Dialog.Content asChild>
            <form onSubmit={onSubmit} noValidate>
              <Dialog.Header>
                <Dialog.Title>{title}</Dialog.Title>
              </Dialog.Header>
              <Dialog.Body>{children}</Dialog.Body>
              <Dialog.Footer>
                <Dialog.ActionTrigger asChild>
                  <Button variant="outline" type="button">
                    {t('actions.cancel')}
                  </Button>
                </Dialog.ActionTrigger>
                {footer}
              </Dialog.Footer>
              <Dialog.CloseTrigger asChild>
                <CloseButton size="sm" aria-label={t('actions.close')} />
              </Dialog.CloseTrigger>
            </form>
          </Dialog.Content>
        </Dialog.Positioner>
      </Portal>
    </Dialog.Root>
  );
}

function CategorySelect({
  label,
  value,
  onChange,
  categories,
  keepOption,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  categories: Category[];
  keepOption?: string;
}) {
  const { t } = useTranslation('catalog');
  return (
    <Field.Root>
      <Field.Label>{label}</Field.Label>
      <NativeSelect.Root>
        <NativeSelect.Field value={value} onChange={(e) => onChange(e.target.value)}>
          {keepOption && <option value="keep">{keepOption}</option>}
          <option value="">{t('noCategory')}</option>
          {categories.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </NativeSelect.Field>
        <NativeSelect.Indicator />
      </NativeSelect.Root>
    </Field.Root>
  );
}

export function AddItemDialog({
  open,
  onOpenChange,
  categories,
  onAdded,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  categories: Category[];
  onAdded: () => void;
}) {
  const { t } = useTranslation('catalog');
  const create = useCreateItem();
  const empty = { sku: '', name: '', price_jod: '', stock: '0', category_id: '' };
  const [form, setForm] = useState(empty);
  const problem = (field: string) => (isApiError(create.error) ? create.error.problemFor(field) : undefined);
  const set = (key: keyof typeof empty) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      {
        body: {
          sku: form.sku.trim(),
          name: form.name.trim(),
          price_jod: form.price_jod.trim(),
          stock: Number(form.stock || 0),
          category_id: form.category_id || null,
        },
      },
      {
        onSuccess: () => {
          setForm(empty);
          onAdded();
          onOpenChange(false);
        },
      },
    );
  };

  const fieldError = (field: string) => problem(field);
  const hasFieldProblems = isApiError(create.error) && create.error.problems.length > 0;

  return (
    <DialogFrame
      open={open}
      onOpenChange={(o) => {
        if (!o) create.reset();
        onOpenChange(o);
      }}
      title={t('add.title')}
      onSubmit={submit}
      footer={
        <Button type="submit" colorPalette="blue" loading={create.isPending}>
          {t('add.submit')}
        </Button>
      }
    >
      <Stack gap="4">
        {(['sku', 'name', 'price_jod', 'stock'] as const).map((key) => (
          <Field.Root key={key} required={key !== 'stock'} invalid={Boolean(fieldError(key))}>
            <Field.Label>
              {t(`fields.${key === 'price_jod' ? 'priceJod' : key}`)}
              {key !== 'stock' && <Field.RequiredIndicator />}
            </Field.Label>
            <Input
              value={form[key]}
              onChange={set(key)}
              inputMode={key === 'price_jod' ? 'decimal' : key === 'stock' ? 'numeric' : undefined}
              dir={key === 'sku' || key === 'price_jod' || key === 'stock' ? 'ltr' : undefined}
              placeholder={key === 'price_jod' ? '12.500' : undefined}
            />
            {fieldError(key) && <Field.ErrorText>{fieldError(key)}</Field.ErrorText>}
          </Field.Root>
        ))}
        <CategorySelect
          label={t('fields.category')}
          value={form.category_id}
          onChange={(v) => setForm((f) => ({ ...f, category_id: v }))}
          categories={categories}
        />
        {create.isError && !hasFieldProblems && <ErrorAlert error={create.error} title={t('add.failed')} />}
      </Stack>
    </DialogFrame>
  );
}

export function BulkEditDialog({
  open,
  onOpenChange,
  items,
  categories,
  onSaved,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  items: CatalogItem[];
  categories: Category[];
  onSaved: () => void;
}) {
  const { t } = useTranslation('catalog');
  const bulk = useBulkChange();
  const [price, setPrice] = useState('');
  const [stock, setStock] = useState('');
  const [category, setCategory] = useState('keep');
  const [active, setActive] = useState('keep');

  const patch: ItemPatch = {};
  if (price.trim()) patch.price_jod = price.trim();
  if (stock.trim()) patch.stock = Number(stock);
  if (category !== 'keep') patch.category_id = category || null;
  if (active !== 'keep') patch.is_active = active === 'yes';
  const nothing = Object.keys(patch).length === 0;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (nothing) return;
    bulk.mutate(
      { body: { changes: items.map((item) => ({ id: item.id, ...patch })) } },
      {
        onSuccess: () => {
          setPrice('');
          setStock('');
          setCategory('keep');
          setActive('keep');
          onSaved();
          onOpenChange(false);
        },
      },
    );
  };

  return (
    <DialogFrame
      open={open}
      onOpenChange={(o) => {
        if (!o) bulk.reset();
        onOpenChange(o);
      }}
      title={t('bulk.title', { count: items.length })}
      onSubmit={submit}
      footer={
        <Button type="submit" colorPalette="blue" loading={bulk.isPending} disabled={nothing}>
          {t('bulk.submit', { count: items.length })}
        </Button>
      }
    >
      <Stack gap="4">
        <Text color="fg.muted" textStyle="sm">
          {t('bulk.hint')}
        </Text>
        <SimpleGrid columns={{ base: 1, sm: 2 }} gap="4">
          <Field.Root>
            <Field.Label>{t('bulk.newPrice')}</Field.Label>
            <Input value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" dir="ltr" placeholder="12.500" />
          </Field.Root>
          <Field.Root>
            <Field.Label>{t('bulk.newStock')}</Field.Label>
            <Input value={stock} onChange={(e) => setStock(e.target.value)} inputMode="numeric" dir="ltr" />
          </Field.Root>
        </SimpleGrid>
        <CategorySelect
          label={t('fields.category')}
          value={category}
          onChange={setCategory}
          categories={categories}
          keepOption={t('bulk.keep')}
        />
        <Field.Root>
          <Field.Label>{t('fields.active')}</Field.Label>
          <NativeSelect.Root>
            <NativeSelect.Field value={active} onChange={(e) => setActive(e.target.value)}>
              <option value="keep">{t('bulk.keep')}</option>
              <option value="yes">{t('yes')}</option>
              <option value="no">{t('no')}</option>
            </NativeSelect.Field>
            <NativeSelect.Indicator />
          </NativeSelect.Root>
        </Field.Root>
        {bulk.isError && (
          <Stack gap="1">
            <ErrorAlert error={bulk.error} title={t('bulk.refused')} />
            {isApiError(bulk.error) &&
              bulk.error.problems.map((p) => (
                <Text key={p.field} color="fg.error" textStyle="sm">
                  {p.field}: {p.message}
                </Text>
              ))}
          </Stack>
        )}
      </Stack>
    </DialogFrame>
  );
}
