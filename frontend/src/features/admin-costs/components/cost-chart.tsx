// Cost per day, stacked by shop (the costliest five, the rest as "others"). The table beside
// it carries the same figures for screen readers and for reading exact amounts.
import { Chart, useChart } from '@chakra-ui/charts';
import { Box } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { OTHERS, costSeries, type ShopDayCost } from '@/features/admin-costs/cost-rules';
import { formatDay, formatUsd } from '@/lib/format';
import { useDirection, useLanguage } from '@/lib/i18n';

const COLORS = ['purple.solid', 'blue.solid', 'teal.solid', 'orange.solid', 'pink.solid'];

export function CostChart({ days, from, to }: { days: ShopDayCost[]; from: string; to: string }) {
  const { t } = useTranslation('admin');
  const language = useLanguage();
  const direction = useDirection();
  const series = costSeries(days, from, to);
  const chart = useChart({
    data: series.rows.map((row) => ({ ...row, label: formatDay(row.day, language, 'short') })) as Record<string, number | string>[],
    series: series.shops.map((shop, index) => ({
      name: shop.key,
      color: shop.key === OTHERS ? 'gray.solid' : (COLORS[index % COLORS.length] ?? 'purple.solid'),
      // A handle stays left-to-right inside Arabic text (an isolate: U+2066 … U+2069).
      label: shop.key === OTHERS ? t('costs.others') : `\u2066${shop.label}\u2069`,
      stackId: 'cost',
    })),
  });
  return (
    <Box borderWidth="1px" rounded="lg" p="4" bg="bg" aria-hidden data-testid="cost-chart">
      <Chart.Root h="64" aspectRatio="auto" chart={chart}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart accessibilityLayer={false} data={chart.data} margin={{ top: 8, right: 8, left: 8, bottom: 0 }}>
            <CartesianGrid stroke={chart.color('border.muted')} vertical={false} />
            <XAxis dataKey={chart.key('label')} reversed={direction === 'rtl'} tickLine={false} axisLine={false} minTickGap={12} />
            <YAxis
              orientation={direction === 'rtl' ? 'right' : 'left'}
              tickLine={false}
              axisLine={false}
              width={64}
              tickFormatter={(value: number) => formatUsd(value, language)}
            />
            <Tooltip
              cursor={{ fill: chart.color('bg.muted') }}
              animationDuration={100}
              content={<Chart.Tooltip formatter={(value) => formatUsd(Number(value), language)} />}
            />
            <Legend content={<Chart.Legend />} />
            {chart.series.map((item) => (
              <Bar
                key={item.name}
                dataKey={chart.key(item.name)}
                stackId={item.stackId}
                fill={chart.color(item.color)}
                name={String(item.label)}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </Chart.Root>
    </Box>
  );
}
