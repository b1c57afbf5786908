// The categories tab: add one, rename in place, delete after saying what happens to its
// products (they stay in the catalog, without a category).
import { Box, Button, Card, Field, Flex, HStack, IconButton, Input, Stack, Text } from '@chakra-ui/react';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { LuCheck, LuPencil, LuTags, LuTrash2, LuX } from 'react-icons/lu';
import { Link as RouterLink } from 'react-router';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import { paths } from '@/config/paths';
import { errorMessage, isApiError } from '@/lib/api-client';
import { formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import { useAddCategory, useCategories, useDeleteCategory, useRenameCategory } from '@/features/categories/api/categories';

type Category = { id: string; name: string; description: string; item_count: number; sort_order: number };

function CategoryRow({ category, onDelete }: { category: Category; onDelete: () => void }) {
  const { t } = useTranslation('categories');
  const language = useLanguage();
  const rename = useRenameCategory();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(category.name);
  const error = rename.isError ? (isApiError(rename.error) && rename.error.problemFor('name')) || errorMessage(rename.error) : undefined;

  const save = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate(
      {
        params: { path: { id: category.id } },
        body: { name: name.trim(), description: category.description, sort_order: category.sort_order },
      },
      { onSuccess: () => setEditing(false) },
    );
  };

  return (
    <Box as="li" borderWidth="1px" rounded="md" p="3" data-testid="category-row">
      {editing ? (
        <form onSubmit={save} noValidate>
          <Flex gap="2" align="flex-start">
            <Field.Root invalid={Boolean(error)} flex="1">
              <Field.Label srOnly>{t('renameLabel', { name: category.name })}</Field.Label>
              <Input value={name} onChange={(e) => setName(e.target.value)} autoFocus dir="auto" />
              {error && <Field.ErrorText>{error}</Field.ErrorText>}
            </Field.Root>
            <IconButton type="submit" aria-label={t('saveName')} loading={rename.isPending} colorPalette="blue">
              <LuCheck />
            </IconButton>
            <IconButton
              type="button"
              variant="ghost"
              aria-label={t('cancelRename')}
              onClick={() => { setEditing(false); setName(category.name); rename.reset(); }}
            >
              <LuX />
            </IconButton>
          </Flex>
        </form>
      ) : (
        <Flex gap="3" align="center">
          <Stack gap="0" flex="1" minW="0">
            <Text fontWeight="medium" truncate>{category.name}</Text>
            <Text textStyle="sm" color="fg.muted">{t('products', { count: category.item_count, n: formatNumber(category.item_count, language) })}</Text>
          </Stack>
          <HStack gap="1">
            <IconButton size="sm" variant="ghost" aria-label={t('rename', { name: category.name })} onClick={() => setEditing(true)}>
              <LuPencil />
            </IconButton>
            <IconButton size="sm" variant="ghost" colorPalette="red" aria-label={t('delete', { name: category.name })} onClick={onDelete}>
              <LuTrash2 />
            </IconButton>
          </HStack>
        </Flex>
      )}
    </Box>
  );
}

export function CategoriesPage() {
  const { t } = useTranslation('categories');
  const language = useLanguage();
  const categories = useCategories();
  const add = useAddCategory();
  const remove = useDeleteCategory();
  const [name, setName] = useState('');
  const [toDelete, setToDelete] = useState<Category | null>(null);
  const addError = add.isError ? (isApiError(add.error) && add.error.problemFor('name')) || errorMessage(add.error) : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({ body: { name: name.trim() } }, { onSuccess: () => setName('') });
  };

  return (
    <Stack gap="6" maxW="3xl">
      <PageHeader title={t('title')} description={t('description')} />
      <Card.Root variant="outline">
        <Card.Body>
          <form onSubmit={submit} noValidate>
            <Flex gap="3" align="flex-start" direction={{ base: 'column', sm: 'row' }}>
              <Field.Root invalid={Boolean(addError)} flex="1">
                <Field.Label>{t('newName')}</Field.Label>
                <Input value={name} onChange={(e) => setName(e.target.value)} placeholder={t('newPlaceholder')} dir="auto" />
                {addError && <Field.ErrorText>{addError}</Field.ErrorText>}
              </Field.Root>
              <Button type="submit" colorPalette="blue" mt={{ sm: '6' }} loading={add.isPending} disabled={!name.trim()}>
                {t('add')}
              </Button>
            </Flex>
          </form>
        </Card.Body>
      </Card.Root>
      {categories.isPending ? (
        <LoadingSkeleton rows={4} />
      ) : categories.isError ? (
        <ErrorAlert error={categories.error} onRetry={() => void categories.refetch()} />
      ) : categories.data.length === 0 ? (
        <EmptyState icon={<LuTags />} title={t('empty.title')} description={t('empty.description')} />
      ) : (
        <Stack as="ul" listStyleType="none" gap="2" aria-label={t('title')}>
          {categories.data.map((c) => (
            <CategoryRow key={c.id} category={c} onDelete={() => setToDelete(c)} />
          ))}
        </Stack>
      )}
      <Text textStyle="sm" color="fg.muted">
        {t('catalogHint')}{' '}
        <RouterLink to={paths.catalog.getHref()}>
          <Text as="span" color="fg.info" textDecoration="underline">{t('toCatalog')}</Text>
        </RouterLink>
      </Text>
      <ConfirmDialog
        open={toDelete !== null}
        onOpenChange={(open) => { if (!open) { setToDelete(null); remove.reset(); } }}
        title={t('deleteTitle', { name: toDelete?.name ?? '' })}
        body={
          toDelete && toDelete.item_count > 0
            ? t('deleteBody', { count: toDelete.item_count, n: formatNumber(toDelete.item_count, language) })
            : t('deleteBodyEmpty')
        }
        confirmLabel={t('deleteConfirm')}
        pending={remove.isPending}
        error={remove.isError ? errorMessage(remove.error) : null}
        onConfirm={() => toDelete && remove.mutate({ params: { path: { id: toDelete.id } } }, { onSuccess: () => setToDelete(null) })}
      />
    </Stack>
  );
}

export { CategoriesPage as Component };
