// The design system: Chakra's defaults with fonts that render Arabic well. Logical properties
// (paddingInline, insetStart…) everywhere, so the whole layout mirrors under dir="rtl".
import { createSystem, defaultConfig, defineConfig } from '@chakra-ui/react';

const fontStack =
  "'Noto Sans Arabic Variable', system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans Arabic', Tahoma, Arial, sans-serif";

const config = defineConfig({
  theme: {
    semanticTokens: {
      colors: {
        // Chakra's default error red (red.500) is below 4.5:1 on white for small text.
        fg: { error: { value: { _light: '{colors.red.700}', _dark: '{colors.red.300}' } } },
      },
    },
    tokens: {
      fonts: {
        body: { value: fontStack },
        heading: { value: fontStack },
      },
    },
  },
  globalCss: {
    'html, body': { minHeight: '100%' },
    ':focus-visible': { outline: '2px solid', outlineColor: 'blue.focusRing', outlineOffset: '2px' },
  },
});

export const system = createSystem(defaultConfig, config);
