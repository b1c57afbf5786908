import { Box, Button } from '@chakra-ui/react';
import { LuLanguages } from 'react-icons/lu';
import { useTranslation } from 'react-i18next';
import { changeLanguage, useLanguage } from '@/lib/i18n';

const NATIVE = { ar: 'العربية', en: 'English' } as const;

/** One button that switches between English and Arabic (remembered in this browser). */
export function LanguageSwitch({ size = 'sm' }: { size?: 'xs' | 'sm' | 'md' }) {
  const { t } = useTranslation();
  const language = useLanguage();
  const other = language === 'ar' ? 'en' : 'ar';
  return (
    <Button
      size={size}
      variant="ghost"
      onClick={() => void changeLanguage(other)}
      // The name holds the visible native word too (WCAG 2.5.3 "label in name").
      aria-label={`${t(`language.switchTo_${other}`)} · ${NATIVE[other]}`}
      data-testid="language-switch"
    >
      <LuLanguages aria-hidden />
      <Box as="span" display={{ base: 'none', sm: 'inline' }} lang={other}>
        {NATIVE[other]}
      </Box>
    </Button>
  );
}
