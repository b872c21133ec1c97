import { EMAIL_MAX_LENGTH, StringField } from '../../common/dto/fields.js';
import { PageQueryDto } from '../../common/dto/pagination.dto.js';

export class ListUsersQueryDto extends PageQueryDto {
  @StringField({
    optional: true,
    maxLength: EMAIL_MAX_LENGTH,
    description: 'part of a username or email, case-insensitive',
  })
  search?: string;
}
