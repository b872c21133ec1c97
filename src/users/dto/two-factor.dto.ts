// The 2FA DTOs live with the two-factor module; the hosted pages still import them from here until
// the page flow is reworked (issue 10, part 1).
export * from '../../two-factor/dto/two-factor.dto.js';
