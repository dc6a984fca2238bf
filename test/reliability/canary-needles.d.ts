export declare const CANARIES: readonly string[];
export declare const CANARY_PREFIX: string;
export declare function needlesFor(value: string): [form: string, needle: string][];
export declare function findCanaries(text: string): { canary: string; form: string }[];
