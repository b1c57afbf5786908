// A scripted OpenAI-compatible model on 127.0.0.1 (POST /chat/completions), answering from
// the conversation's content:
//   - after a tool result (the last message has role "tool"): a text confirming the order;
//   - a customer message containing ORDER_TRIGGER: a `create_order` tool call whose arguments
//     follow prompts/function_schema.json (items by SKU, name, phone, city, address);
//   - anything else: DM_REPLY.
// Every request is recorded. Embeddings are not served (the suite runs with
// OPENAI_EMBEDDING_MODEL=none).
import { json, listen } from './http.mjs';

export const DM_REPLY = 'أهلين! الفستان الأحمر متوفر، سعره 25 دينار. بتحب أحجزلك واحد؟';
export const ORDER_TRIGGER = 'بدي أطلب';
export const ORDER_CONFIRMED = 'تم تسجيل طلبك، رح نتواصل معك قريباً ✅';

export async function startFakeModel({ orderSku }) {
  const chats = [];
  let n = 0;
  const server = await listen(async (req, res, body) => {
    const url = new URL(req.url, 'http://fake');
    if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
      return json(res, 404, { error: { message: `fake model has no ${req.method} ${url.pathname}`, type: 'invalid_request_error' } });
    }
    const request = JSON.parse(body);
    chats.push(request);
    n += 1;
    const messages = request.messages ?? [];
    const last = messages[messages.length - 1] ?? {};
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const userText = typeof lastUser?.content === 'string' ? lastUser.content : JSON.stringify(lastUser?.content ?? '');
    const usage = { prompt_tokens: 1200, completion_tokens: 40, total_tokens: 1240, prompt_tokens_details: { cached_tokens: 0 } };
    const reply = (message, finish) =>
      json(res, 200, {
        id: `chatcmpl-${n}`,
        object: 'chat.completion',
        model: request.model ?? 'fake',
        choices: [{ index: 0, message, finish_reason: finish }],
        usage,
      });

    if (last.role === 'tool') {
      return reply({ role: 'assistant', content: ORDER_CONFIRMED }, 'stop');
    }
    if (userText.includes(ORDER_TRIGGER)) {
      const args = {
        items: [{ sku: orderSku, quantity: 2 }],
        customer_name: 'ليلى حداد',
        phone: '0791234567',
        city: 'عمّان',
        address: 'عبدون، شارع القاهرة، عمارة 5',
      };
      return reply(
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: `call_${n}`, type: 'function', function: { name: 'create_order', arguments: JSON.stringify(args) } }],
        },
        'tool_calls',
      );
    }
    return reply({ role: 'assistant', content: DM_REPLY }, 'stop');
  });
  return { url: server.url, close: server.close, chats };
}
