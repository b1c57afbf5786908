// Per-day bars (messages in, AI replies, orders) for the chosen range. A hidden table gives
// screen readers the same numbers.
import { Chart, useChart } from '@chakra-ui/charts';
import { Box, VisuallyHidden } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Overview } from '@/features/dashboard/api/get-dashboard';
import { formatDay, formatMoney, formatNumber } from '@/lib/format';
import { useDirection, useLanguage } from '@/lib/i18n';

export function DailyChart({ overview }: { overview: Overview }) {
  const { t } = useTranslation('dashboard');
  const language = useLanguage();
  const direction = useDirection();
  const data = overview.days.map((day) => ({
    label: formatDay(day.day, language, 'short'),
    messages_in: day.messages_in,
    ai_replies: day.ai_replies,
    orders: day.orders,
  }));
  const chart = useChart({
    data,
    series: [
      { name: 'messages_in', color: 'blue.solid', label: t('chart.messagesIn') },
      { name: 'ai_replies', color: 'purple.solid', label: t('chart.aiReplies') },
      { name: 'orders', color: 'green.solid', label: t('chart.orders') },
    ],
  });

  return (
    <Box borderWidth="1px" rounded="lg" p="4" bg="bg">
      <Chart.Root h="72" aspectRatio="auto" chart={chart} aria-hidden>
        <ResponsiveContainer width="100%" height="100%">
        <BarChart accessibilityLayer={false} data={chart.data} margin={{ top: 8, right: 8, left: 8, bottom: 0 }}>
          <CartesianGrid stroke={chart.color('border.muted')} vertical={false} />
          <XAxis dataKey={chart.key('label')} reversed={direction === 'rtl'} tickLine={false} axisLine={false} />
          <YAxis
            orientation={direction === 'rtl' ? 'right' : 'left'}
            allowDecimals={false}
            tickLine={false}
            axisLine={false}
            width={40}
            tickFormatter={(value: number) => formatNumber(value, language)}
          />
          <Tooltip cursor={{ fill: chart.color('bg.muted') }} animationDuration={100} content={<Chart.Tooltip />} />
          <Legend content={<Chart.Legend />} />
          {chart.series.map((item) => (
            <Bar key={item.name} dataKey={chart.key(item.name)} fill={chart.color(item.color)} name={String(item.label)} radius={[3, 3, 0, 0]} isAnimationActive={false} />
          ))}
        </BarChart>
        </ResponsiveContainer>
      </Chart.Root>
      <VisuallyHidden>
        <table>
          <caption>{t('chart.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('chart.day')}</th>
              <th scope="col">{t('chart.messagesIn')}</th>
              <th scope="col">{t('chart.aiReplies')}</th>
              <th scope="col">{t('chart.orders')}</th>
              <th scope="col">{t('chart.revenue')}</th>
            </tr>
          </thead>
          <tbody>
            {overview.days.map((day) => (
              <tr key={day.day}>
                <th scope="row">{formatDay(day.day, language)}</th>
                <td>{formatNumber(day.messages_in, language)}</td>
                <td>{formatNumber(day.ai_replies, language)}</td>
                <td>{formatNumber(day.orders, language)}</td>
                <td>{formatMoney(day.revenue_jod, language)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </VisuallyHidden>
    </Box>
  );
}
