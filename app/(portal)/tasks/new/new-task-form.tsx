"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { useTRPC } from "@/app/_components/trpc.ts";
import { costFor, type PriceTable } from "@/server/billing/billing.ts";
import { fieldErrorsOf, type FieldErrors } from "@/server/errors.ts";
import { charCount, createGenerationInputSchema, LIMITS, QUALITIES, type Quality } from "@/server/tasks/request-schema.ts";

interface Props {
  allowLoopbackHttp: boolean;
  sampleImageUrl?: string;
  prices: PriceTable;
}

export function NewTaskForm({ allowLoopbackHttp, sampleImageUrl, prices }: Props) {
  const trpc = useTRPC();
  const router = useRouter();
  const schema = useMemo(() => createGenerationInputSchema({ allowLoopbackHttp }), [allowLoopbackHttp]);
  const [prompt, setPrompt] = useState("");
  const [negativePrompt, setNegativePrompt] = useState("");
  const [imageStart, setImageStart] = useState(sampleImageUrl ?? "");
  const [quality, setQuality] = useState<Quality>("720p");
  const [duration, setDuration] = useState(String(LIMITS.durationDefault));
  const [seed, setSeed] = useState("");
  const [promptExtend, setPromptExtend] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(trpc.tasks.create.mutationOptions());

  const seconds = Number.isInteger(Number(duration)) ? Number(duration) : 0;
  const estimate = costFor(prices, quality, seconds);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const parsed = schema.safeParse({
      generation_mode: "first_frame",
      prompt,
      negative_prompt: negativePrompt || undefined,
      image_start: imageStart,
      quality,
      duration: duration.trim() === "" ? undefined : Number(duration),
      seed: seed.trim() === "" ? undefined : Number(seed),
      prompt_extend: promptExtend,
    });
    if (!parsed.success) {
      setErrors(fieldErrorsOf(parsed.error));
      return;
    }
    setErrors({});
    try {
      const task = await create.mutateAsync(parsed.data);
      router.push(`/tasks/${task.id}`);
    } catch (err) {
      const data = (err as { data?: { fieldErrors?: FieldErrors | null } }).data;
      setErrors(data?.fieldErrors ?? { _form: [(err as Error).message] });
    }
  }

  const field = (name: string, label: ReactNode, control: ReactNode, hint?: ReactNode) => (
    <div className="field">
      <label htmlFor={`f-${name}`}>{label}</label>
      {control}
      {hint}
      {errors[name]?.map((m) => (
        <span key={m} id={`f-${name}-error`} className="field-error" role="alert" data-field={name}>
          {m}
        </span>
      ))}
    </div>
  );
  const describedBy = (name: string) => (errors[name] ? `f-${name}-error` : undefined);

  return (
    <form onSubmit={onSubmit} className="card form" noValidate>
      {field(
        "prompt",
        "Prompt",
        <textarea id="f-prompt" name="prompt" rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} aria-describedby={describedBy("prompt")} />,
        <span className={charCount(prompt) > LIMITS.promptMaxChars ? "error small" : "muted small"}>
          {charCount(prompt)} / {LIMITS.promptMaxChars} characters
        </span>,
      )}
      {field(
        "negative_prompt",
        <>
          Negative prompt <span className="muted">(optional)</span>
        </>,
        <textarea id="f-negative_prompt" name="negative_prompt" rows={2} value={negativePrompt} onChange={(e) => setNegativePrompt(e.target.value)} aria-describedby={describedBy("negative_prompt")} />,
        <span className={charCount(negativePrompt) > LIMITS.negativePromptMaxChars ? "error small" : "muted small"}>
          {charCount(negativePrompt)} / {LIMITS.negativePromptMaxChars} characters
        </span>,
      )}
      {field(
        "image_start",
        "First frame image URL",
        <input id="f-image_start" name="image_start" type="url" value={imageStart} onChange={(e) => setImageStart(e.target.value)} placeholder="https://example.com/first-frame.png" aria-describedby={describedBy("image_start")} />,
      )}
      <div className="row">
        {field(
          "quality",
          "Quality",
          <select id="f-quality" name="quality" value={quality} onChange={(e) => setQuality(e.target.value as Quality)}>
            {QUALITIES.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>,
        )}
        {field(
          "duration",
          "Duration (seconds)",
          <input id="f-duration" name="duration" type="number" min={LIMITS.durationMin} max={LIMITS.durationMax} step={1} value={duration} onChange={(e) => setDuration(e.target.value)} aria-describedby={describedBy("duration")} />,
        )}
        {field(
          "seed",
          <>
            Seed <span className="muted">(optional)</span>
          </>,
          <input id="f-seed" name="seed" type="number" min={LIMITS.seedMin} max={LIMITS.seedMax} step={1} value={seed} onChange={(e) => setSeed(e.target.value)} placeholder="random" aria-describedby={describedBy("seed")} />,
        )}
      </div>
      <label className="checkbox">
        <input name="prompt_extend" type="checkbox" checked={promptExtend} onChange={(e) => setPromptExtend(e.target.checked)} />
        Let the provider rewrite the prompt (prompt_extend)
      </label>
      <p className="estimate" data-testid="estimate">
        Estimated cost: {seconds} s × {prices.perSecond[quality]} {prices.currency}/s = {estimate.toFixed(3)} {prices.currency}
      </p>
      {errors._form?.map((m) => (
        <p key={m} className="error" role="alert" data-field="_form">
          {m}
        </p>
      ))}
      <button type="submit" disabled={create.isPending}>
        {create.isPending ? "Submitting…" : "Generate video"}
      </button>
    </form>
  );
}
