// Business rules as the form holds them (all text) and back, and which API field path each
// input answers for (the API numbers delivery zones from 1: `delivery_zones[2].city`).
import type { BusinessRules } from '@/features/instructions/api/instructions';

export const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Day = (typeof DAYS)[number];

export type ZoneForm = { key: string; city: string; fee_jod: string; delivery_days: string; aliases: string };
export type RulesForm = {
  zones: ZoneForm[];
  minimum_order_jod: string;
  working_hours: Record<Day, string>;
  out_of_hours_message: string;
  keywords: string;
  on_complaint: boolean;
  on_request: boolean;
};

let counter = 0;
export const newZone = (): ZoneForm => ({ key: `zone-${++counter}`, city: '', fee_jod: '', delivery_days: '', aliases: '' });

export function rulesToForm(rules: BusinessRules): RulesForm {
  const hours = rules.working_hours ?? {};
  return {
    zones: (rules.delivery_zones ?? []).map((z) => ({
      ...newZone(),
      city: z.city,
      fee_jod: z.fee_jod,
      delivery_days: z.delivery_days == null ? '' : String(z.delivery_days),
      aliases: (z.aliases ?? []).join(', '),
    })),
    minimum_order_jod: rules.minimum_order_jod ?? '',
    working_hours: Object.fromEntries(DAYS.map((d) => [d, hours[d] ?? ''])) as Record<Day, string>,
    out_of_hours_message: rules.out_of_hours_message ?? '',
    keywords: (rules.handoff?.keywords ?? []).join('\n'),
    on_complaint: rules.handoff?.on_complaint ?? true,
    on_request: rules.handoff?.on_request ?? true,
  };
}

export function formToRules(form: RulesForm): BusinessRules {
  const hours: Record<string, string> = {};
  for (const d of DAYS) if (form.working_hours[d].trim()) hours[d] = form.working_hours[d].trim();
  return {
    delivery_zones: form.zones
      .filter((z) => z.city.trim() || z.fee_jod.trim())
      .map((z) => {
        const aliases = z.aliases
          .split(/[\n,،]/)
          .map((a) => a.trim())
          .filter(Boolean);
        return {
          city: z.city.trim(),
          fee_jod: z.fee_jod.trim(),
          delivery_days: /^\d+$/.test(z.delivery_days.trim()) ? Number(z.delivery_days.trim()) : null,
          ...(aliases.length > 0 ? { aliases } : {}),
        };
      }),
    minimum_order_jod: form.minimum_order_jod.trim() || null,
    working_hours: hours,
    out_of_hours_message: form.out_of_hours_message.trim(),
    handoff: {
      keywords: form.keywords
        .split(/[\n,،]/)
        .map((k) => k.trim())
        .filter(Boolean),
      on_complaint: form.on_complaint,
      on_request: form.on_request,
    },
  };
}

/** The API's path for a zone's field: zones are numbered from 1. */
export const zoneField = (index: number, field: 'city' | 'fee_jod' | 'delivery_days' | 'aliases') =>
  `delivery_zones[${index + 1}].${field}`;
