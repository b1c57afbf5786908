import { Alert, Button } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '@/lib/api-client';

/** Shows the API's own message for a failed request, with a retry when one makes sense. */
export function ErrorAlert({
  error,
  title,
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Alert.Root status="error" role="alert">
      <Alert.Indicator />
      <Alert.Content>
        <Alert.Title>{title ?? t('errors.title')}</Alert.Title>
        <Alert.Description>{errorMessage(error)}</Alert.Description>
      </Alert.Content>
      {onRetry && (
        <Button size="sm" variant="outline" onClick={onRetry} alignSelf="center">
          {t('actions.retry')}
        </Button>
      )}
    </Alert.Root>
  );
}
