/**
 * Shared component styles. Colours come from CSS custom properties set on :root in
 * index.html (light and dark schemes); charts read the same properties.
 */
import { css } from 'lit';

export const base = css`
  :host {
    display: block;
    color: var(--fg);
    font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif;
  }
  h2 {
    font-size: 1.25rem;
    margin: 0 0 0.75rem;
  }
  h3 {
    font-size: 1.05rem;
    margin: 1.25rem 0 0.5rem;
  }
  p {
    margin: 0.4rem 0;
  }
  .muted {
    color: var(--muted);
  }
  .num {
    font-variant-numeric: tabular-nums;
    text-align: right;
    white-space: nowrap;
  }
  table {
    border-collapse: collapse;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    padding: 0.3rem 0.6rem;
    border-bottom: 1px solid var(--line);
    vertical-align: top;
  }
  th {
    font-weight: 600;
    text-align: left;
    color: var(--muted);
    font-size: 0.85rem;
  }
  th.num {
    text-align: right;
  }
  tbody tr:hover {
    background: var(--hover);
  }
  button {
    font: inherit;
    padding: 0.35rem 0.9rem;
    border-radius: 6px;
    border: 1px solid var(--line-strong);
    background: var(--surface);
    color: var(--fg);
    cursor: pointer;
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: var(--on-accent);
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  a:focus-visible {
    outline: 2px solid var(--accent);
    outline-offset: 2px;
  }
  input,
  select {
    font: inherit;
    padding: 0.25rem 0.4rem;
    border: 1px solid var(--line-strong);
    border-radius: 5px;
    background: var(--surface);
    color: var(--fg);
  }
  input[type='number'] {
    font-variant-numeric: tabular-nums;
    text-align: right;
    width: 7rem;
  }
  .card > h3:first-child {
    margin-top: 0;
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--line);
    border-radius: 8px;
    padding: 1rem 1.25rem;
    margin-bottom: 1rem;
  }
  .error {
    color: var(--bad);
    background: var(--bad-bg);
    border: 1px solid var(--bad);
    border-radius: 6px;
    padding: 0.5rem 0.75rem;
    white-space: pre-wrap;
  }
  .ok {
    color: var(--ok);
  }
  .notice {
    background: var(--warn-bg);
    border: 1px solid var(--warn);
    border-radius: 6px;
    padding: 0.6rem 0.9rem;
  }
  code {
    font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace;
    font-size: 0.9em;
  }
  /* Shared by the views: a row of labelled inputs, and the note on results that no longer match the form. */
  .inputs {
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem 1.25rem;
    align-items: flex-end;
    margin: 0.5rem 0;
  }
  .in {
    display: flex;
    flex-direction: column;
    gap: 0.2rem;
    font-size: 0.92rem;
  }
  .stale-note {
    background: var(--warn-bg);
    border: 1px solid var(--warn);
    border-radius: 6px;
    padding: 0.4rem 0.7rem;
  }
`;
