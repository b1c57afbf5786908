import { Skeleton, SkeletonText, Stack } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';

/** Placeholder rows while a screen's data loads (announced once to screen readers). */
export function LoadingSkeleton({ rows = 4, label }: { rows?: number; label?: string }) {
  const { t } = useTranslation();
  return (
    <Stack gap="4" aria-busy="true" aria-live="polite" role="status" aria-label={label ?? t('loading')}>
      {Array.from({ length: rows }, (_, index) => (
        <Stack key={index} gap="2">
          <Skeleton height="5" width="40%" />
          <SkeletonText noOfLines={2} />
        </Stack>
      ))}
    </Stack>
  );
}
