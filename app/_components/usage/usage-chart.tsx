"use client";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface ChartPoint {
  day: string;
  key: string;
  cost: number;
  billedSeconds: number;
}

/** Colour-blind-safe categorical palette (Okabe-Ito), then greys. */
const COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"];

/** Cost (or billed seconds) per day, stacked by person, quality or mode (recharts). */
export function UsageChart({
  days,
  keys,
  labels,
  points,
  metric,
  currency,
  title,
}: {
  days: string[];
  keys: string[];
  labels: Record<string, string>;
  points: ChartPoint[];
  metric: "cost" | "billedSeconds";
  currency: string;
  title: string;
}) {
  const rows = days.map((day) => {
    const row: Record<string, string | number> = { day: day.slice(5) };
    for (const key of keys) row[key] = 0;
    for (const p of points) if (p.day === day) row[p.key] = Math.round(((row[p.key] as number) + p[metric]) * 1e6) / 1e6;
    return row;
  });
  const unit = metric === "cost" ? currency : "s";
  return (
    <figure className="chart" aria-label={title}>
      <figcaption className="muted small">{title}</figcaption>
      <div style={{ width: "100%", height: 280 }}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" tick={{ fontSize: 12 }} minTickGap={8} />
            <YAxis tick={{ fontSize: 12 }} width={48} />
            <Tooltip formatter={(value) => `${metric === "cost" ? Number(value).toFixed(2) : value} ${unit}`} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {keys.map((key, i) => (
              <Bar key={key} dataKey={key} name={labels[key] ?? key} stackId="usage" fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
