import { Span } from '@chakra-ui/react';
import { formatMoney } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

/** A JOD amount from the API ("12.500"), formatted for the current language. */
export function Money({ jod }: { jod: string | number | null | undefined }) {
  const language = useLanguage();
  return <Span fontVariantNumeric="tabular-nums" whiteSpace="nowrap">{formatMoney(jod, language)}</Span>;
}
