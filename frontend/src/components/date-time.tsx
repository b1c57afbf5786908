import { Span } from '@chakra-ui/react';
import { formatDateTime, formatRelative } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

/** An instant in Amman time; `relative` shows "5 minutes ago" with the exact time on hover. */
export function DateTime({ value, relative = false }: { value: string | null | undefined; relative?: boolean }) {
  const language = useLanguage();
  if (!value) return <Span>—</Span>;
  const exact = formatDateTime(value, language);
  return (
    <time dateTime={value} title={exact}>
      {relative ? formatRelative(value, language) : exact}
    </time>
  );
}
