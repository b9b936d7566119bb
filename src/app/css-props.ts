/**
 * `cssProps({...})`: an element directive (`<div ${cssProps({ height: '11rem' })}>`) that
 * sets inline style properties through CSSOM only (`element.style.setProperty`). The app's
 * Content-Security-Policy (`style-src 'self'`, vite.config.ts) blocks every `style`
 * attribute, including one written by `setAttribute`, as Lit does for a `style=${…}`
 * binding and as its `styleMap` does on first render; CSSOM property writes are allowed.
 * A property whose value becomes null/undefined is removed.
 */
import { noChange } from 'lit';
import { Directive, directive, PartType, type ElementPart, type PartInfo } from 'lit/directive.js';

export type CssProps = Readonly<Record<string, string | null | undefined>>;

class CssPropsDirective extends Directive {
  private previous = new Set<string>();

  constructor(info: PartInfo) {
    super(info);
    if (info.type !== PartType.ELEMENT)
      throw new Error('cssProps() must be used as an element directive: <el ${cssProps(…)}>');
  }

  render(_props: CssProps): typeof noChange {
    return noChange;
  }

  override update(part: ElementPart, [props]: [CssProps]): typeof noChange {
    const { style } = part.element as HTMLElement | SVGElement;
    for (const name of this.previous) {
      if (props[name] == null) {
        style.removeProperty(name);
        this.previous.delete(name);
      }
    }
    for (const [name, value] of Object.entries(props)) {
      if (value == null) continue;
      style.setProperty(name, value);
      this.previous.add(name);
    }
    return noChange;
  }
}

export const cssProps = directive(CssPropsDirective);
