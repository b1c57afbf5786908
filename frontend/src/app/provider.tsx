// Everything around the router: design system (direction/locale follow the language),
// react-query, i18n, toasts.
import { ChakraProvider, LocaleProvider } from '@chakra-ui/react';
import { QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { I18nextProvider } from 'react-i18next';
import { system } from '@/app/theme';
import { Toaster } from '@/components/toaster';
import { i18n, localeOf, useLanguage } from '@/lib/i18n';
import { queryClient } from '@/lib/query-client';

function LanguageAwareChakra({ children }: { children: ReactNode }) {
  const language = useLanguage();
  return (
    <ChakraProvider value={system}>
      <LocaleProvider locale={localeOf(language)}>
        {children}
        <Toaster />
      </LocaleProvider>
    </ChakraProvider>
  );
}

export function AppProvider({ children }: { children: ReactNode }) {
  return (
    <I18nextProvider i18n={i18n}>
      <QueryClientProvider client={queryClient}>
        <LanguageAwareChakra>{children}</LanguageAwareChakra>
      </QueryClientProvider>
    </I18nextProvider>
  );
}
