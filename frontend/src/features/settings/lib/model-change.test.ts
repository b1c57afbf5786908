import { describe, expect, it } from 'vitest';
import { modelChange } from '@/features/settings/lib/model-change';

describe('modelChange', () => {
  const saved = { base_url: 'https://llm.example/v1', model: 'gpt-4o-mini' };

  it('sends nothing when nothing changed (the saved key is kept)', () => {
    expect(modelChange({ api_key: '', base_url: 'https://llm.example/v1', model: 'gpt-4o-mini' }, saved)).toEqual({});
  });

  it('sends a typed key and changed fields only', () => {
    expect(modelChange({ api_key: ' sk-new ', base_url: 'https://llm.example/v1', model: 'gpt-4.1' }, saved)).toEqual({
      api_key: 'sk-new',
      model: 'gpt-4.1',
    });
  });

  it('clears a field the merchant emptied', () => {
    expect(modelChange({ api_key: '', base_url: '  ', model: 'gpt-4o-mini' }, saved)).toEqual({ base_url: null });
  });
});
